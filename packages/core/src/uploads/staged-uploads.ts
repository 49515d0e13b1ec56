/**
 * The `staged_uploads` table's statements: one function per statement, every move between states guarded on the
 * state it leaves (so a token or an upload id is used once) and on the caller's scope (someone else's upload id
 * behaves like one that does not exist).
 */
import { and, count, eq, inArray, lt, ne, or, sql } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
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

/** Unfinished, unexpired uploads one user holds, TUS and direct alike (the per-user limit counts these). */
export async function countOpenUploads(db: Db, userId: string | null): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(stagedUploads)
    .where(
      and(
        userId === null ? sql`${stagedUploads.userId} is null` : eq(stagedUploads.userId, userId),
        inArray(stagedUploads.state, ['issued', 'receiving', 'received', 'completing']),
        sql`${stagedUploads.expiresAt} > now()`,
      ),
    );
  return row?.n ?? 0;
}

/**
 * Inserts the upload unless its user already holds `limit` open uploads (TUS and direct share the limit).
 * Count and insert run in one transaction under a per-user advisory lock, so concurrent requests, from any process,
 * cannot race past the limit. @throws UPLOAD_LIMIT
 */
export async function insertStagedUploadWithin(
  db: Db,
  upload: NewStagedUpload,
  limit: number,
): Promise<StagedUploadRow> {
  return db.transaction(async (tx) => {
    const inTx = tx as unknown as Db;
    await inTx.execute(sql`select pg_advisory_xact_lock(hashtext(${`mediaforge-uploads:${upload.userId ?? ''}`}))`);
    if ((await countOpenUploads(inTx, upload.userId)) >= limit) {
      throw new FileProcessingError(
        `At most ${limit} uploads (resumable or direct) may be open at once; finish or delete one (or wait for it to expire).`,
        'UPLOAD_LIMIT',
        { details: { limit } },
      );
    }
    return insertStagedUpload(inTx, upload);
  });
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
              and(eq(stagedUploads.state, 'failed'), lt(stagedUploads.updatedAt, cutoff)),
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
    `Upload ${id} was already used or has failed (${state}); request a new upload URL.`,
    'UPLOAD_USED',
    { details: { uploadId: id, state } },
  );
}
