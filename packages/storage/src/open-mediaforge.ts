/**
 * Everything a library user needs, opened from the environment's settings (or the ones given): the database
 * (migrated when embedded), the object store, and the settings. Pass it to the core's functions and close it after.
 *
 * @example
 * const mf = await openMediaforge();
 * try { await createFileForRecord({ recordUid }, mf); } finally { await mf.close(); }
 */
import { type Database, type Db, loadSettings, openDatabaseFromSettings, type Settings } from '@mediaforge/core';
import type { ObjectStore } from './object-store.ts';
import { openObjectStore } from './open.ts';

export interface Mediaforge {
  db: Db;
  database: Database;
  store: ObjectStore;
  settings: Settings;
  close(): Promise<void>;
}

export async function openMediaforge(settings: Settings = loadSettings()): Promise<Mediaforge> {
  const database = await openDatabaseFromSettings(settings);
  return { db: database.db, database, store: openObjectStore(settings), settings, close: () => database.close() };
}
