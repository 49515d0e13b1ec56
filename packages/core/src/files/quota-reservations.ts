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
import { fixedValues, type JsonRows, jsonRows } from '../db/fixed-statements.ts';
import { postgresJsOf } from '../db/postgres-js.ts';
import { objects } from '../db/schema.ts';
import { withDeadlockRetry } from '../retry/rerun.ts';
import { createBatcher, perDatabase, type Settled, settleEach } from './batcher.ts';
import { reserveObjectKeys } from './object-batches.ts';
import { canonicalKey } from './object-keys.ts';
import { type NewObject, objectRow } from './objects.ts';
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
    // A statement that failed reserved nothing (it is its own transaction): its files go to the transaction too.
    const reserved = await withDeadlockRetry(() => reserveInOneStatement(db, items)).catch(() => undefined);
    // Files the statement did not reserve (all of them, or those whose key was taken) reserve in the transaction.
    const rest = items.filter((_, index) => reserved?.[index] === undefined);
    const answers = rest.length === 0 ? [] : await reserveInTransaction(db, rest);
    let next = 0;
    return items.map((_, index): Settled<string> => {
      const key = reserved?.[index];
      return key === undefined ? (answers[next++] as Settled<string>) : { ok: true, value: key };
    });
  }),
);

/** The files' reservations in one transaction; if it rolls back whole, each file's in its own, with its own error. */
async function reserveInTransaction(db: Db, items: readonly QuotaReservation[]): Promise<Settled<string>[]> {
  try {
    return await withDeadlockRetry(() => db.transaction((tx) => reserveTogether(tx as unknown as Db, items)));
  } catch {
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
}

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

const reservationStatements = new Map<string, { text: string; rows: JsonRows }>();
/** SQLSTATE of the quota triggers' refusal (check_violation). */
const CHECK_VIOLATION = '23514';

/**
 * The common case of `reserveTogether` as one statement on PostgreSQL (no begin, lock, read, insert and commit to
 * send): the owners' locks in order, then each file's canonical key inserted, unless an owner would pass the record
 * cap with this batch's new records (read as of the statement's start: as in the transaction, only an early refusal;
 * the commit holds the cap exactly). The storage quota is checked by the trigger that adds the bytes to the owners'
 * usage (migration 0013): passed, the statement fails, and the transaction answers file by file in arrival order. A
 * whole batch that fits means every file fits beside the ones before it, as the transaction would find.
 * Returns each file's key, or undefined where the file must still reserve in the transaction (its key was taken, or
 * the batch went there whole); `undefined` on PGlite, for thumbnails (no canonical key) and for mixed settings.
 */
async function reserveInOneStatement(
  db: Db,
  items: readonly QuotaReservation[],
): Promise<(string | undefined)[] | undefined> {
  const quota = items[0]?.quota as UserQuotaSettings;
  const keys = items.map(({ object }) =>
    object.mediaType === 'thumbnail' ? undefined : canonicalKey(object.mediaType, object.uid, object.extension),
  );
  const same = items.every(
    (item) => item.quota.storageBytes === quota.storageBytes && item.quota.maxRecords === quota.maxRecords,
  );
  if (!postgresJsOf(db) || !same || keys.includes(undefined) || new Set(keys).size < keys.length) return undefined;
  const newRecords = new Map<string, number>();
  for (const { object, newRecord } of items) {
    newRecords.set(object.ownerId, (newRecords.get(object.ownerId) ?? 0) + (newRecord ? 1 : 0));
  }
  const owners = [...newRecords.keys()].sort();
  const rows = items.map(({ object }, index) => objectRow(object, keys[index] as string));
  const columns = Object.keys(rows[0] as object);
  let statement = reservationStatements.get(columns.join());
  if (!statement) {
    const inserting = jsonRows(objects, columns, 5);
    // The locks are a join input of the insert, so they are taken (and the cap set) before any row goes in, whatever
    // order the planner evaluates the conditions in; `over` only decides whether anything goes in at all.
    const text =
      'with over as materialized (select 1 from unnest($1::text[], $2::int[]) as a(o, n) ' +
      'left join "user_usage" u on u."user_id" = a.o ' +
      'where $4::bigint > 0 and coalesce(u."records", 0) + a.n > $4::bigint), ' +
      "gate as materialized (select count(*) as locks from (select set_config('mediaforge.max_stored_bytes', " +
      "$3::text, true), pg_advisory_xact_lock(hashtext('mediaforge-storage:' || o)) from unnest($1::text[]) as o) l), " +
      `inserted as (insert into "objects" (${inserting.columns}) ${inserting.select} cross join gate ` +
      'where gate.locks >= 0 and not exists (select 1 from over) on conflict ("key") do nothing returning "key") ' +
      'select "key" from inserted';
    statement = { text, rows: inserting };
    reservationStatements.set(columns.join(), statement);
  }
  const params = [
    owners,
    owners.map((owner) => newRecords.get(owner) ?? 0),
    String(quota.storageBytes),
    String(quota.maxRecords),
    statement.rows.encode(rows),
  ];
  let returned: unknown[][];
  try {
    returned = (await fixedValues(db, statement.text, params)) as unknown[][];
  } catch (error) {
    // The storage quota would be passed: the transaction finds which files fit.
    if ((error as { code?: string }).code === CHECK_VIOLATION) return undefined;
    throw error;
  }
  const inserted = new Set(returned.map(([key]) => key as string));
  return keys.map((key) => (inserted.has(key as string) ? key : undefined));
}
