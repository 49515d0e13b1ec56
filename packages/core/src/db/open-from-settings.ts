/** Opens the database the settings describe; the embedded default migrates itself. */
import { join } from 'node:path';
import type { Settings } from '../config/settings.ts';
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
  if (migrate ?? database.kind === 'pglite') {
    try {
      await database.migrate();
    } catch (error) {
      await database.close();
      throw error;
    }
  }
  return database;
}
