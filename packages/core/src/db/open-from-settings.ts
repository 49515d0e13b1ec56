/** Opens the database the settings describe; the embedded default migrates itself. */
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import type { Settings } from '../config/settings.ts';
import { DatabaseError } from '../errors.ts';
import { rows } from '../queue/rows.ts';
import { type Database, openDatabase } from './database.ts';

export interface OpenFromSettingsOptions {
  /** Apply migrations now. Defaults to true on the embedded database, false on PostgreSQL (run `mediaforge migrate`). */
  migrate?: boolean;
}

export async function openDatabaseFromSettings(
  settings: Settings,
  { migrate }: OpenFromSettingsOptions = {},
): Promise<Database> {
  const database = await openDatabase(
    settings.databaseUrl ? { url: settings.databaseUrl } : { dataDir: join(settings.home, 'db') },
  );
  try {
    if (migrate ?? database.kind === 'pglite') await database.migrate();
    else await requireSchema(database);
  } catch (error) {
    await database.close();
    throw error;
  }
  return database;
}

/** A PostgreSQL database nobody has migrated fails every query with raw SQL; say what to do instead. */
async function requireSchema(database: Database): Promise<void> {
  const [found] = await rows<{ table: string | null }>(
    database.db,
    sql`select to_regclass('records')::text as "table"`,
  );
  if (!found?.table) {
    throw new DatabaseError(
      'The database in DATABASE_URL has no mediaforge tables yet. Run `mediaforge migrate` once (it is safe to re-run), then try again.',
      { transient: false },
    );
  }
}
