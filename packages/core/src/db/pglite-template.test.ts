import { afterEach, expect, test } from 'bun:test';
import { appendFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { rows } from '../queue/rows.ts';
import { MIGRATIONS_FOLDER, openDatabase, pgliteVersion } from './database.ts';
import { migrationsDigest, readTemplateManifest } from './pglite-template.ts';

const homes: string[] = [];
afterEach(() => {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});
function emptyHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'mediaforge-template-'));
  homes.push(home);
  return home;
}

test('the shipped template is built from the current migrations and PGlite (else run `bun run db:template`)', () => {
  expect(readTemplateManifest()).toEqual({ migrations: migrationsDigest(MIGRATIONS_FOLDER), pglite: pgliteVersion() });
});

test('the first open of an empty home yields a migrated database, with no initdb and nothing left to migrate', async () => {
  const dataDir = join(emptyHome(), 'db');
  const database = await openDatabase({ dataDir });
  try {
    // Tables are there before migrate() runs: the data directory came from the template.
    const [found] = await rows<{ table: string | null }>(
      database.db,
      sql`select to_regclass('records')::text as "table"`,
    );
    expect(found?.table).toBe('records');
    const applied = await rows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
    );
    await database.migrate();
    const after = await rows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
    );
    expect(after).toEqual(applied);
    const [settings] = await rows<{ shared_buffers: string }>(database.db, sql`show shared_buffers`);
    expect(settings?.shared_buffers).toBe('8MB');
  } finally {
    await database.close();
  }
  expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);
});

test('a data directory configured for other settings keeps its data and opens with the CLI settings', async () => {
  const dataDir = join(emptyHome(), 'db');
  const first = await openDatabase({ dataDir });
  await first.db.execute(sql`insert into records (uid, media_type, title) values (gen_random_uuid(), 'text', 'kept')`);
  await first.close();
  // PGlite's defaults, as a data directory from before these settings would have them.
  appendFileSync(join(dataDir, 'postgresql.conf'), '\nshared_buffers = 128MB\n');
  const second = await openDatabase({ dataDir });
  try {
    await second.migrate();
    const titles = await rows<{ title: string }>(second.db, sql`select title from records`);
    expect(titles).toEqual([{ title: 'kept' }]);
    const [settings] = await rows<{ shared_buffers: string }>(second.db, sql`show shared_buffers`);
    expect(settings?.shared_buffers).toBe('8MB');
  } finally {
    await second.close();
  }
});
