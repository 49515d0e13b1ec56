/**
 * drizzle's statements run as named prepared statements on PostgreSQL (prepared-client.ts): seen in the server's own
 * `pg_prepared_statements` of the connection that ran them, inside transactions and savepoints too, within the cap,
 * and never when DATABASE_URL says `?prepare=false`.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { eq, sql } from 'drizzle-orm';
import { rows } from '../queue/rows.ts';
import { createTestPostgres, skipPostgres, type TestPostgres } from '../testing/index.ts';
import { type Database, openDatabase } from './database.ts';
import { preparedTexts, preparingClient, UNPREPARED } from './prepared-client.ts';
import { records } from './schema.ts';

/** The prepared statements of the connection running `db`'s statements (a transaction pins one). */
async function preparedOnConnection(db: Database['db']): Promise<string[]> {
  const result = (await db.execute(sql`select statement from pg_prepared_statements`)) as unknown as {
    statement: string;
  }[];
  return result.map((row) => row.statement);
}

describe.skipIf(skipPostgres)('prepared statements for drizzle on PostgreSQL', () => {
  let postgres: TestPostgres;
  let database: Database;
  beforeAll(async () => {
    postgres = await createTestPostgres();
    database = await openDatabase({ url: postgres.url, maxConnections: 2 });
    await database.migrate();
  });
  afterAll(async () => {
    await database.close();
    await postgres.drop();
  });

  test('a statement with parameters is prepared on its connection, and gives the same rows', async () => {
    await database.db.transaction(async (tx) => {
      const missing = await tx.select({ uid: records.uid }).from(records).where(eq(records.title, 'prepared-probe'));
      expect(missing).toEqual([]);
      const statements = await preparedOnConnection(tx as unknown as Database['db']);
      expect(statements.some((text) => text.includes('"title" = $1'))).toBe(true);
    });
  });

  test('a nested transaction (savepoint) prepares its statements too', async () => {
    await database.db.transaction(async (tx) => {
      await tx.transaction(async (inner) => {
        await inner.select({ uid: records.uid }).from(records).where(eq(records.language, 'savepoint-probe'));
      });
      const statements = await preparedOnConnection(tx as unknown as Database['db']);
      expect(statements.some((text) => text.includes('"language" = $1'))).toBe(true);
    });
  });

  test("the queue's unprepared statements (rows) stay unnamed, planned for their parameters each run", async () => {
    await database.db.transaction(async (tx) => {
      const [row] = await rows<{ probe: number }>(tx, sql`select ${41}::int + 1 as probe`);
      expect(row?.probe).toBe(42);
      const statements = await preparedOnConnection(tx as unknown as Database['db']);
      expect(statements.some((text) => text.includes('as probe'))).toBe(false);
    });
  });

  test('?prepare=false in DATABASE_URL prepares nothing', async () => {
    const unprepared = await openDatabase({ url: `${postgres.url}?prepare=false`, maxConnections: 1 });
    try {
      await unprepared.db.transaction(async (tx) => {
        await tx.select({ uid: records.uid }).from(records).where(eq(records.title, 'unprepared-probe'));
        expect(await preparedOnConnection(tx as unknown as Database['db'])).toEqual([]);
      });
    } finally {
      await unprepared.close();
    }
  });
});

describe('which texts are prepared', () => {
  test('the first distinct texts up to the cap, then none new; a chosen text stays chosen', () => {
    const prepare = preparedTexts(2);
    expect(prepare('select $1')).toBe(true);
    expect(prepare('select $1, $2')).toBe(true);
    expect(prepare('select $1, $2, $3')).toBe(false);
    expect(prepare('select $1')).toBe(true);
  });

  test('very long texts are never prepared', () => {
    expect(preparedTexts(10)(`select ${'1, '.repeat(10_000)}$1`)).toBe(false);
  });

  test('only statements with parameters are switched, inside transactions as well', async () => {
    const calls: { text: string; options: unknown }[] = [];
    interface Fake {
      unsafe(text: string, params?: unknown[], options?: unknown): Promise<unknown[]>;
      begin(fn: (tx: Fake) => unknown): unknown;
    }
    const fake: Fake = {
      unsafe: (text: string, _params: unknown[] = [], options?: unknown) => {
        calls.push({ text, options });
        return Promise.resolve([]);
      },
      begin: (fn) => fn(fake),
    };
    const client = preparingClient(fake, preparedTexts(10));
    await client.unsafe('select 1; select 2');
    await client.unsafe('select $1', [1], { prepare: false });
    await client.begin((tx) => tx.unsafe('select $1::int', [2]));
    await client.unsafe('select $1::text', ['kept'], UNPREPARED);
    expect(calls).toEqual([
      { text: 'select 1; select 2', options: undefined },
      { text: 'select $1', options: { prepare: true } },
      { text: 'select $1::int', options: { prepare: true } },
      { text: 'select $1::text', options: UNPREPARED },
    ]);
  });
});
