/** What a command needs to run: settings, a logger and (lazily) the database, closed when it ends. */
import {
  ALL_USERS,
  createLogger,
  type Database,
  type Logger,
  loadSettings,
  openDatabaseFromSettings,
  RecordFileGenerator,
  RecordRepository,
  type Settings,
  TaskManager,
} from '@mediaforge/core';
import { type ObjectStore, openObjectStore } from '@mediaforge/storage';
import { clearProgressLine } from './progress.ts';

export interface CommandContext {
  settings: Settings;
  logger: Logger;
  database(): Promise<Database>;
  records(): Promise<RecordRepository>;
  store(): ObjectStore;
  generator(): Promise<RecordFileGenerator>;
  tasks(): Promise<TaskManager>;
}

/** Runs `fn` with a fresh context and always releases what it opened. */
export async function withContext<T>(fn: (ctx: CommandContext) => Promise<T>): Promise<T> {
  const settings = loadSettings();
  const logger = createLogger({ level: settings.logLevel, beforeLine: clearProgressLine });
  let opened: Promise<Database> | undefined;
  let store: ObjectStore | undefined;
  const getStore = () => {
    store ??= openObjectStore(settings);
    return store;
  };
  const database = () => {
    opened ??= openDatabaseFromSettings(settings);
    return opened;
  };
  try {
    return await fn({
      settings,
      logger,
      database,
      records: async () => new RecordRepository((await database()).db, { quota: settings.quota }),
      store: getStore,
      generator: async () =>
        new RecordFileGenerator({
          db: (await database()).db,
          store: getStore(),
          settings,
          scope: ALL_USERS,
          // The quick path is about throughput: thumbnails only when THUMBNAILS=true.
          thumbnails: settings.uploads.thumbnails ?? false,
        }),
      tasks: async () => new TaskManager({ database: await database(), settings }),
    });
  } finally {
    if (opened) await (await opened.catch(() => undefined))?.close();
  }
}
