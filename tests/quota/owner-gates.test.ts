/**
 * One user's writes that wait on their own per-user lock do not take the connections everyone shares (an attacker's
 * finding: rolled-back record batches from one user held 8–9 of a process's 10 connections waiting on that user's
 * lock, and another user's one-record read went from 5 ms to 2.7 s). Real PostgreSQL, a pool of 3 connections.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { type Database, newUid, openDatabase, RecordRepository, userScope } from '@mediaforge/core';
import { createTestPostgres, type TestPostgres } from '@mediaforge/core/testing';

let postgres: TestPostgres;
let database: Database;
beforeAll(async () => {
  postgres = await createTestPostgres();
  database = await openDatabase({ url: postgres.url, maxConnections: 3 });
  await database.migrate();
});
afterAll(async () => {
  await database.close();
  await postgres.drop();
});

test("a user's record batches waiting on their own lock leave the pool to another user's read", async () => {
  const repository = new RecordRepository(database.db, { quota: { storageBytes: 0, maxRecords: 1_000_000 } });
  const alice = userScope('alice');
  const [taken] = await repository.createMany([{ mediaType: 'text' }], alice);
  // Each batch inserts 500 records under alice's record lock, then meets a uid she has: it rolls back, costing her
  // nothing, after holding the lock for the whole insert.
  const batch = () => [
    ...Array.from({ length: 500 }, () => ({ mediaType: 'text' as const, uid: newUid() })),
    { mediaType: 'text' as const, uid: taken?.uid as string },
  ];
  const finished: string[] = [];
  const batches = Array.from({ length: 12 }, (_, n) =>
    repository.createMany(batch(), alice).then(
      () => finished.push(`alice ${n} stored`),
      (error: { code?: string }) => finished.push(`alice ${n} ${error.code}`),
    ),
  );
  await Bun.sleep(20);
  const read = new RecordRepository(database.db)
    .list(userScope('bob'), { limit: 1 })
    .then(() => finished.push('bob read'));
  await Promise.all([...batches, read]);
  expect(finished.filter((entry) => entry.startsWith('alice')).every((entry) => entry.endsWith('RECORD_EXISTS'))).toBe(
    true,
  );
  // Without the gate, the pool's 3 connections were alice's (one holding her lock, two waiting on it) and bob's read
  // queued behind her other nine batches. With it, one of her batches at a time holds a connection.
  expect(finished.indexOf('bob read')).toBeLessThan(3);
});
