/**
 * The `staged_uploads` table's statements: one function per statement, every move between states guarded on the
 * state it leaves (so a token or an upload id is used once) and on the caller's scope (someone else's upload id
 * behaves like one that does not exist).
 */
import { and, asc, count, eq, inArray, lt, ne, not, or, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import { withOwnerGates } from '../db/owner-gates.ts';
import {
  type StagedUploadKind,
  type StagedUploadRow,
  type StagedUploadState,
  stagedUploads,
} from '../db/uploads-schema.ts';
import { FileProcessingError } from '../errors.ts';
import { type Scope, scopeCondition } from '../scope.ts';
import { isUid } from '../uid.ts';

export interface NewStagedUpload {
  id: string;
  kind: StagedUploadKind;
  recordUid: string;
  userId: string | null;
  stagingKey: string;
  tokenHash?: string;
  maxSize: number;
  expiresAt: Date;
}

export async function insertStagedUpload(db: Db, upload: NewStagedUpload): Promise<StagedUploadRow> {
  const [row] = await db.insert(stagedUploads).values(upload).returning();
  return row as StagedUploadRow;
}

/** The upload in the scope. @throws UPLOAD_NOT_FOUND (also for someone else's) */
export async function getStagedUpload(db: Db, id: string, scope: Scope): Promise<StagedUploadRow> {
  const [row] = isUid(id)
    ? await db
        .select()
        .from(stagedUploads)
        .where(and(eq(stagedUploads.id, id), scopeCondition(stagedUploads.userId, scope)))
    : [];
  if (!row) throw uploadNotFound(id);
  return row;
}

/** Moves the upload from one of `from` to `to`; false when it was in another state (used, failed, taken). */
export async function moveStagedUpload(
  db: Db,
  id: string,
  from: readonly StagedUploadState[],
  to: StagedUploadState,
): Promise<boolean> {
  const [row] = await db
    .update(stagedUploads)
    .set({ state: to, updatedAt: new Date() })
    .where(and(eq(stagedUploads.id, id), inArray(stagedUploads.state, [...from])))
    .returning({ id: stagedUploads.id });
  return row !== undefined;
}

/**
 * The uploads whose staged bytes may exist with nobody else about to remove them, expired or not: unfinished ones (an
 * `issued` presigned URL may have been PUT to, and a TUS upload stays `issued` while its PATCHes arrive), and presigned
 * ones that ended: S3 cannot revoke a presigned URL, so a PUT may put bytes back until it expires. A token or TUS
 * upload that ended (`done`, `failed`, cancelled) had its bytes removed by the request that ended it.
 */
function holdsStagedBytes(): SQL {
  return or(
    inArray(stagedUploads.state, ['issued', 'receiving', 'received', 'completing']),
    and(eq(stagedUploads.kind, 'presigned'), inArray(stagedUploads.state, ['done', 'failed'])),
  ) as SQL;
}

/**
 * What the per-user limit counts: the uploads that hold staged bytes (`holdsStagedBytes`) until they are removed, so
 * the bytes outside the storage quota stay within about the limit times the size cap — except that a presigned upload
 * not being received or completed counts only while its URL is valid. Counted until its removal (its URL's expiry and
 * a grace), every S3 direct upload would hold a place for twice the URL's lifetime; once the URL has expired no new
 * PUT can start, so only a PUT already under way (bounded by its signed length) is left uncounted until the sweep.
 */
function countedUploads(): SQL {
  return or(
    inArray(stagedUploads.state, ['receiving', 'received', 'completing']),
    and(eq(stagedUploads.state, 'issued'), ne(stagedUploads.kind, 'presigned')),
    and(
      eq(stagedUploads.kind, 'presigned'),
      inArray(stagedUploads.state, ['issued', 'done', 'failed']),
      sql`${stagedUploads.expiresAt} > now()`,
    ),
  ) as SQL;
}

function ownedBy(userId: string | null): SQL {
  return userId === null ? sql`${stagedUploads.userId} is null` : eq(stagedUploads.userId, userId);
}

/** The uploads one user holds that the per-user limit counts (`countedUploads`), TUS and direct alike. */
export async function countOpenUploads(db: Db, userId: string | null): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(stagedUploads)
    .where(and(ownedBy(userId), countedUploads()));
  return row?.n ?? 0;
}

/**
 * The user's own uploads holding staged bytes (`holdsStagedBytes`) that are safe to remove now, oldest expiry first: expired, not
 * `completing` (a live completion reads the bytes; a stuck one is the sweep's), and expired more than `graceMs` ago
 * where a PUT may still be arriving (a token PUT in `receiving`, any presigned URL), as the sweep allows. An expired
 * token cannot start a PUT and an expired TUS upload refuses PATCHes (410), so those need no grace.
 */
export async function reclaimableUploads(
  db: Db,
  userId: string | null,
  graceMs: number,
  limit: number,
): Promise<StagedUploadRow[]> {
  const cutoff = sql`now() - make_interval(secs => ${graceMs / 1000}::double precision)`;
  const mayBeArriving = or(eq(stagedUploads.state, 'receiving'), eq(stagedUploads.kind, 'presigned'));
  return db
    .select()
    .from(stagedUploads)
    .where(
      and(
        ownedBy(userId),
        holdsStagedBytes(),
        ne(stagedUploads.state, 'completing'),
        or(
          and(mayBeArriving, lt(stagedUploads.expiresAt, cutoff)),
          and(not(mayBeArriving as SQL), lt(stagedUploads.expiresAt, sql`now()`)),
        ),
      ),
    )
    .orderBy(asc(stagedUploads.expiresAt))
    .limit(limit);
}

/** The per-user limit of open uploads (TUS_MAX_UPLOADS_PER_USER), shared by TUS and direct uploads. */
export interface OpenUploadLimit {
  max: number;
  /**
   * Frees the user's own expired uploads that are safe to remove (`reclaimOwnUploads`) before they are counted, so
   * uploads the user can no longer use do not lock them out.
   */
  reclaim: (userId: string | null) => Promise<unknown>;
}

/**
 * Inserts the upload unless its user already holds `limit.max` open uploads (TUS and direct share the limit), after
 * reclaiming what the user may no longer use. Count and insert run in one transaction under a per-user advisory
 * lock, so concurrent requests, from any process, cannot race past the limit. @throws UPLOAD_LIMIT
 */
export async function insertStagedUploadWithin(
  db: Db,
  upload: NewStagedUpload,
  limit: OpenUploadLimit,
): Promise<StagedUploadRow> {
  // Outside the transaction: removing staged bytes takes store round trips, and every claim in it is guarded.
  await limit.reclaim(upload.userId);
  const lock = `mediaforge-uploads:${upload.userId ?? ''}`;
  return withOwnerGates(db, [lock], () =>
    db.transaction(async (tx) => {
      const inTx = tx as unknown as Db;
      await inTx.execute(sql`select pg_advisory_xact_lock(hashtext(${lock}))`);
      if ((await countOpenUploads(inTx, upload.userId)) >= limit.max) {
        throw new FileProcessingError(
          `At most ${limit.max} uploads (resumable or direct) may be open at once; finish or cancel one (or wait for it to expire).`,
          'UPLOAD_LIMIT',
          { details: { limit: limit.max } },
        );
      }
      return insertStagedUpload(inTx, upload);
    }),
  );
}

/** The TUS upload stored under `stagingKey` (the TUS store's id) in the scope: someone else's is `undefined`. */
export async function findTusUpload(db: Db, stagingKey: string, scope: Scope): Promise<StagedUploadRow | undefined> {
  const [row] = await db
    .select()
    .from(stagedUploads)
    .where(
      and(
        eq(stagedUploads.kind, 'tus'),
        eq(stagedUploads.stagingKey, stagingKey),
        scopeCondition(stagedUploads.userId, scope),
      ),
    );
  return row;
}

/**
 * Uploads expired more than `graceMs` ago (done or not), failed ones, and completions stuck for `stuckAfterMs` (the
 * process completing them crashed): the sweep removes their staged bytes, if any are left, and their rows. A live
 * completion is never taken: it holds its record's claim, which goes stale after TASK_TIMEOUT_MINUTES, so callers
 * pass at least that (a completion running longer could no longer record its file anyway).
 */
export async function staleStagedUploads(
  db: Db,
  graceMs: number,
  kind: 'tus' | 'direct',
  stuckAfterMs: number,
  limit = 500,
): Promise<StagedUploadRow[]> {
  const cutoff = sql`now() - make_interval(secs => ${graceMs / 1000}::double precision)`;
  const stuck = sql`now() - make_interval(secs => ${stuckAfterMs / 1000}::double precision)`;
  // One kind per sweep, and a completion only once stuck (it reads these bytes and removes them itself): rows a
  // sweep would skip must not fill its window, or the other kind's sweep would never reach its own.
  return db
    .select()
    .from(stagedUploads)
    .where(
      and(
        kind === 'tus' ? eq(stagedUploads.kind, 'tus') : inArray(stagedUploads.kind, ['presigned', 'token']),
        or(
          and(
            ne(stagedUploads.state, 'completing'),
            or(
              lt(stagedUploads.expiresAt, cutoff),
              // A failed presigned upload waits for its expiry like any other: its URL may still put bytes back.
              and(
                eq(stagedUploads.state, 'failed'),
                ne(stagedUploads.kind, 'presigned'),
                lt(stagedUploads.updatedAt, cutoff),
              ),
            ),
          ),
          and(eq(stagedUploads.state, 'completing'), lt(stagedUploads.updatedAt, stuck)),
        ),
      ),
    )
    .limit(limit);
}

/** Forgets an upload whose staged bytes are gone. */
export async function deleteStagedUpload(db: Db, id: string): Promise<void> {
  await db.delete(stagedUploads).where(eq(stagedUploads.id, id));
}

export function uploadNotFound(id: string): FileProcessingError {
  return new FileProcessingError(
    `Upload ${id.slice(0, 80)} was not found (it may have expired or belong to someone else).`,
    'UPLOAD_NOT_FOUND',
    { details: { uploadId: id.slice(0, 80) } },
  );
}

export function uploadUsed(id: string, state: StagedUploadState): FileProcessingError {
  return new FileProcessingError(
    `Upload ${id} was already used, has failed or was cancelled (${state}); request a new upload URL.`,
    'UPLOAD_USED',
    { details: { uploadId: id, state } },
  );
}
