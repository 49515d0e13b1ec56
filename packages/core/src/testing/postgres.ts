/** Test PostgreSQL: a throw-away database per suite, created on the server TEST_DATABASE_URL points at. */
import postgres from 'postgres';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestPostgres {
  url: string;
  drop(): Promise<void>;
}

/** Whether the test server answers; probed once per process. */
export async function probePostgres(url = TEST_DATABASE_URL): Promise<{ available: boolean; reason?: string }> {
  const sql = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`select 1`;
    return { available: true };
  } catch (error) {
    return { available: false, reason: (error as Error).message };
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

/** Creates an empty database with a unique name so concurrent runs never collide. */
export async function createTestPostgres(baseUrl = TEST_DATABASE_URL): Promise<TestPostgres> {
  const name = `mediaforge_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end({ timeout: 1 });
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const dropper = postgres(baseUrl, { max: 1, onnotice: () => {} });
      try {
        await dropper.unsafe(`drop database if exists "${name}" with (force)`);
      } finally {
        await dropper.end({ timeout: 1 });
      }
    },
  };
}
