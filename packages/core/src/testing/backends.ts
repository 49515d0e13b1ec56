/**
 * The database contract harness: `describeBackends` runs one suite on embedded PGlite and on PostgreSQL.
 * Outside CI an unreachable PostgreSQL skips its half with a visible notice; with CI=true it fails.
 */
import { afterAll, beforeAll, describe } from 'bun:test';
import { type Database, openDatabase } from '../db/database.ts';
import { createTestPostgres, probePostgres, TEST_DATABASE_URL, type TestPostgres } from './postgres.ts';

export * from './postgres.ts';

/** Whether the test PostgreSQL answered, probed once per test process. */
export const postgresProbe = await probePostgres();
const inCi = process.env.CI === 'true' || process.env.CI === '1';
/** Skip PostgreSQL suites only outside CI; in CI an unreachable server must fail them. */
export const skipPostgres = !postgresProbe.available && !inCi;
let noticeShown = false;

export type BackendKind = 'pglite' | 'postgres';

export interface BackendHandle {
  kind: BackendKind;
  /** The migrated database for this suite (available from `beforeAll` on). */
  database(): Database;
  /** The PostgreSQL URL of this suite's database (undefined on PGlite). */
  url(): string | undefined;
}

export function describeBackends(title: string, body: (backend: BackendHandle) => void): void {
  for (const kind of ['pglite', 'postgres'] as const) {
    const skip = kind === 'postgres' && skipPostgres;
    if (skip && !noticeShown) {
      noticeShown = true;
      console.warn(
        `\n[mediaforge tests] PostgreSQL at ${TEST_DATABASE_URL} is unreachable (${postgresProbe.reason}); ` +
          'SKIPPING the PostgreSQL half of the database suites. Set TEST_DATABASE_URL or start PostgreSQL. ' +
          'With CI=true these suites fail instead.\n',
      );
    }
    describe.skipIf(skip)(`${title} [${kind}]`, () => {
      let database: Database | undefined;
      let server: TestPostgres | undefined;
      beforeAll(async () => {
        if (kind === 'postgres') {
          if (!postgresProbe.available)
            throw new Error(`PostgreSQL unreachable at ${TEST_DATABASE_URL}: ${postgresProbe.reason}`);
          server = await createTestPostgres();
          database = await openDatabase({ url: server.url, maxConnections: 20 });
        } else {
          database = await openDatabase();
        }
        await database.migrate();
      });
      afterAll(async () => {
        await database?.close();
        await server?.drop();
      });
      body({
        kind,
        database: () => {
          if (!database) throw new Error('database not ready: use it inside tests or beforeAll');
          return database;
        },
        url: () => server?.url,
      });
    });
  }
}
