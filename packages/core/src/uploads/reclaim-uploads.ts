/** Frees a user's places under the per-user limit of open uploads before a new upload is counted. */
import type { Db } from '../db/database.ts';
import type { StagedUploadRow } from '../db/uploads-schema.ts';
import { deleteStagedUpload, moveStagedUpload, reclaimableUploads } from './staged-uploads.ts';

/** Enough to free a place for the upload being created, few enough to keep its request short. */
const RECLAIM_PER_CREATION = 10;

export interface ReclaimOptions {
  /** How long after expiry a PUT may still be arriving (the direct-upload sweep's grace). */
  graceMs: number;
  /** Removes the row's staged bytes wherever its kind keeps them; a missing one counts as removed. */
  remove: (row: StagedUploadRow) => Promise<void>;
  limit?: number;
}

/**
 * Removes the staged bytes and rows of `userId`'s own expired uploads that are safe to remove now
 * (`reclaimableUploads`). Each is first moved to `failed`, guarded on the state it was read in, so a token PUT or a
 * completion that took it meanwhile keeps it, and one taken here can no longer be PUT to or completed. Bytes that
 * cannot be removed put the upload back in its state: it still holds them, so it still counts.
 * @returns how many uploads were removed
 */
export async function reclaimOwnUploads(db: Db, userId: string | null, options: ReclaimOptions): Promise<number> {
  const rows = await reclaimableUploads(db, userId, options.graceMs, options.limit ?? RECLAIM_PER_CREATION);
  let removed = 0;
  for (const row of rows) {
    if (!(await moveStagedUpload(db, row.id, [row.state], 'failed'))) continue;
    try {
      await options.remove(row);
    } catch {
      await moveStagedUpload(db, row.id, ['failed'], row.state);
      continue;
    }
    await deleteStagedUpload(db, row.id);
    removed += 1;
  }
  return removed;
}
