/**
 * Record claims: a file is written for an existing record only by the holder of its claim. Claiming moves the record
 * to `processing` with a fresh token in one guarded UPDATE; every later write (complete, release) is guarded on that
 * token, so a holder whose claim was taken over changes nothing. A claim older than `staleAfterMs` is presumed
 * abandoned (its process died) and may be taken over.
 */
import { and, eq, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import { type RecordStatus, records } from '../db/schema.ts';
import { FileProcessingError, RecordNotFoundError } from '../errors.ts';
import type { MediaRecord } from '../records/record.ts';
import { type Scope, scopeCondition } from '../scope.ts';
import { newUid } from '../uid.ts';
import { crashPoint } from './crash-points.ts';

export interface Claim {
  uid: string;
  token: string;
  /** The record as it was before the claim (what a release restores). */
  before: MediaRecord;
}

export interface ClaimOptions {
  /** Whose records may be claimed; others look missing. */
  scope: Scope;
  /** A record that already has a file: refuse (`RECORD_HAS_FILE`), or claim it to replace the file, or skip it. */
  ifHasFile: 'refuse' | 'replace' | 'skip';
  /** A `processing` claim older than this is taken over. */
  staleAfterMs: number;
}

/** A record's claim, or `skipped` with the record when it has a file and `ifHasFile` is `skip`. */
export type ClaimResult = { claim: Claim; skipped?: never } | { claim?: never; skipped: MediaRecord };

/** Claims record `uid`. @throws RecordNotFoundError, RECORD_HAS_FILE, RECORD_BUSY (transient) */
export async function claimRecord(db: Db, uid: string, options: ClaimOptions): Promise<ClaimResult> {
  const [before] = await db
    .select()
    .from(records)
    .where(and(eq(records.uid, uid), scopeCondition(records.userId, options.scope)));
  if (!before) throw new RecordNotFoundError(uid);
  if (before.storageKey && options.ifHasFile === 'skip' && before.status !== 'processing') return { skipped: before };
  if (before.storageKey && options.ifHasFile === 'refuse') {
    throw new FileProcessingError(
      `Record ${uid} already has a file (${before.storageKey}); pass replace to replace it.`,
      'RECORD_HAS_FILE',
      { details: { uid } },
    );
  }
  const token = newUid();
  // Guarded on the row being exactly as read (or an abandoned claim), so two claimants never both win.
  const [claimed] = await db
    .update(records)
    .set({ status: 'processing', claimToken: token, updatedAt: new Date() })
    .where(
      and(
        eq(records.uid, uid),
        before.status === 'processing'
          ? staleClaim(options.staleAfterMs)
          : and(eq(records.status, before.status), eq(records.updatedAt, before.updatedAt)),
      ),
    )
    .returning({ uid: records.uid });
  if (!claimed) {
    throw new FileProcessingError(
      `Record ${uid} is being processed by another upload or generator; try again when it finishes.`,
      'RECORD_BUSY',
      { transient: true, details: { uid } },
    );
  }
  crashPoint('after-claim');
  return { claim: { uid, token, before } };
}

/** A `processing` claim older than `afterMs`: its holder is presumed gone, and the record may be claimed again. */
export function staleClaim(afterMs: number): SQL {
  return and(
    eq(records.status, 'processing'),
    sql`${records.updatedAt} < now() - make_interval(secs => ${afterMs / 1000}::double precision)`,
  ) as SQL;
}

/**
 * Gives the claim up without a file. `restore` puts the record back as it was; `fail` marks a record without a file
 * `failed` with the error (so it is retried), and restores one that has a file (its file is untouched).
 */
export async function releaseClaim(
  db: Db,
  claim: Claim,
  { outcome, error }: { outcome: 'restore' | 'fail'; error?: unknown },
): Promise<void> {
  const { before } = claim;
  const fail = outcome === 'fail' && !before.storageKey;
  const status: RecordStatus = fail ? 'failed' : before.status === 'processing' ? restingStatus(before) : before.status;
  const message = error instanceof Error ? error.message : error === undefined ? null : String(error);
  await db
    .update(records)
    .set({
      status,
      error: fail ? (message ?? 'failed').slice(0, 2000) : before.error,
      claimToken: null,
      // A restore that changes nothing visible leaves no trace, not even a newer updated_at.
      updatedAt: !fail && status === before.status ? before.updatedAt : new Date(),
    })
    .where(and(eq(records.uid, claim.uid), eq(records.claimToken, claim.token)));
}

/** The status a record taken over from an abandoned claim goes back to. */
function restingStatus(record: MediaRecord): RecordStatus {
  return record.storageKey ? 'uploaded' : 'pending';
}

/** The error a claim holder gets when its claim was taken over (or its record deleted) before it could finish. */
export function claimLost(uid: string): FileProcessingError {
  return new FileProcessingError(
    `Record ${uid} was taken over or deleted while its file was being stored; nothing was changed.`,
    'CLAIM_LOST',
    { transient: true, details: { uid } },
  );
}
