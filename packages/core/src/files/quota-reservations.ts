/**
 * Object keys reserved within their owners' storage quota, for many files at once. The check and the reservation
 * are one transaction under each owner's lock, so stores running at once, in this process or another, cannot pass
 * the quota together: a reserved object is live, so it counts in its owner's usage as soon as it commits. Files
 * reserving at the same time share that transaction (group commit, see batcher.ts): one lock statement, one read of
 * the owners' usage, one insert of the keys, where each file had a transaction of its own (six statements).
 */
import { sql } from 'drizzle-orm';
import type { UserQuotaSettings } from '../config/settings.ts';
import type { Db } from '../db/database.ts';
import { withDeadlockRetry } from '../retry/rerun.ts';
import { createBatcher, perDatabase, type Settled, settleEach } from './batcher.ts';
import { reserveObjectKeys } from './object-batches.ts';
import type { NewObject } from './objects.ts';
import { checkFileQuota, fileQuotaRefusal, heldByEach } from './user-quota.ts';

interface QuotaReservation {
  object: NewObject & { ownerId: string };
  quota: UserQuotaSettings;
  newRecord: boolean;
}

/**
 * Reserves an object's key (`reserve`) within its owner's storage quota, and refuses it (QUOTA_EXCEEDED) when the file
 * would not fit — or, when it makes a new record, would pass the record cap. Without a storage quota, or for an
 * object without an owner, it is the check and `reserve`.
 */
export async function reserveWithinQuota(
  ctx: { db: Db; settings?: { quota?: UserQuotaSettings } },
  object: NewObject,
  reserve: (db: Db, object: NewObject) => Promise<string>,
  newRecord = false,
): Promise<string> {
  const quota = ctx.settings?.quota;
  const owner = object.ownerId;
  if (!quota || owner === null || quota.storageBytes <= 0) {
    await checkFileQuota(ctx, owner, object.size, newRecord);
    return reserve(ctx.db, object);
  }
  return reservations(ctx.db)({ object: { ...object, ownerId: owner }, quota, newRecord });
}

const reservations = perDatabase((db: Db) =>
  createBatcher<QuotaReservation, string>(async (items) => {
    try {
      return await withDeadlockRetry(() => db.transaction((tx) => reserveTogether(tx as unknown as Db, items)));
    } catch {
      // The batch rolled back whole: each file reserves in a transaction of its own, and fails with its own error.
      return settleEach(items, (item) =>
        withDeadlockRetry(() =>
          db.transaction(async (tx) => {
            const [outcome] = await reserveTogether(tx as unknown as Db, [item]);
            if (!outcome?.ok) throw outcome?.error;
            return outcome.value;
          }),
        ),
      );
    }
  }),
);

async function reserveTogether(tx: Db, items: readonly QuotaReservation[]): Promise<Settled<string>[]> {
  // Owners in a fixed order (a VALUES list is scanned in its order), so two batches cannot deadlock on the locks.
  const owners = [...new Set(items.map((item) => item.object.ownerId))].sort();
  const lockNames = sql.join(
    owners.map((owner) => sql`(${`mediaforge-storage:${owner}`})`),
    sql`, `,
  );
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(name)) from (values ${lockNames}) as locks(name)`);
  const held = await heldByEach(tx, owners);
  // In arrival order, each file fits beside what its owner holds and the files of this batch accepted before it.
  const outcomes: (Settled<string> | undefined)[] = items.map((item) => {
    const owner = held.get(item.object.ownerId) as { bytes: number; records: number };
    const refusal = fileQuotaRefusal(item.quota, owner, item.object.size, item.newRecord);
    if (refusal) return { ok: false, error: refusal };
    owner.bytes += item.object.size;
    if (item.newRecord) owner.records += 1;
    return undefined;
  });
  const accepted = items.flatMap((item, index) => (outcomes[index] ? [] : [item.object]));
  const keys = await reserveObjectKeys(tx, accepted);
  let next = 0;
  return outcomes.map((outcome) => outcome ?? (keys[next++] as Settled<string>));
}
