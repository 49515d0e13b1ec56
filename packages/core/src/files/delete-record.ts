/** Deleting a record: the row and its reference go in one transaction; the object's bytes go once nothing refers to them. */
import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import { records } from '../db/schema.ts';
import { RecordNotFoundError } from '../errors.ts';
import type { MediaRecord } from '../records/record.ts';
import { withDeadlockRetry } from '../retry/rerun.ts';
import { type Scope, scopeCondition } from '../scope.ts';
import { parseUid } from '../uid.ts';
import { crashPoint } from './crash-points.ts';
import { dropObjectReference, removeRetiredBytes } from './objects.ts';

/**
 * Deletes record `uid` in the scope; its object is removed when no other record shares it.
 * @throws InvalidUidError, RecordNotFoundError (also for a record outside the scope)
 */
export async function deleteRecord(
  db: Db,
  store: { delete(key: string): Promise<void> },
  uid: string,
  scope: Scope,
): Promise<{ record: MediaRecord; objectDeleted: boolean }> {
  const id = parseUid(uid);
  // Rerun whole when PostgreSQL picks it as a deadlock victim (a file completing on the shared object meanwhile).
  const { record, retired } = await withDeadlockRetry(() =>
    db.transaction(async (tx) => {
      const [deleted] = await tx
        .delete(records)
        .where(and(eq(records.uid, id), scopeCondition(records.userId, scope)))
        .returning();
      if (!deleted) throw new RecordNotFoundError(id);
      const retired: string[] = [];
      // The file and its thumbnail are each referenced once by the record; a shared file may outlive it.
      for (const key of [deleted.storageKey, deleted.thumbnailKey]) {
        if (key && (await dropObjectReference(tx as unknown as Db, key))) retired.push(key);
      }
      return { record: deleted, retired };
    }),
  );
  crashPoint('delete-after-commit');
  // A store that fails now leaves the row `deleting`; the maintenance sweep finishes it.
  if (retired.length > 0) await removeRetiredBytes(db, store, retired).catch(() => {});
  return { record, objectDeleted: record.storageKey !== null && retired.includes(record.storageKey) };
}
