/**
 * What a command needs to run: settings, and on first use a logger, the database and the object store, released when
 * it ends. Everything past the settings loads when a command asks for it, through the core's narrow subpaths: a
 * command that lists records never loads the logger, the object stores (AWS, Supabase) or ingest and generation,
 * which keeps its peak memory down next to the embedded database (issue 21).
 */
import type { Database, Logger, RecordFileGenerator, RecordRepository, Settings, TaskManager } from '@mediaforge/core';
import { loadSettings } from '@mediaforge/core/settings';
import type { ObjectStore } from '@mediaforge/storage';
import { clearProgressLine } from './progress.ts';

export interface CommandContext {
  settings: Settings;
  logger(): Promise<Logger>;
  database(): Promise<Database>;
  /**
   * Closes the database now, when the command's database work is done and only output is left: the embedded
   * database's memory and lock are given back before printing. Safe to call twice; a later `database()` reopens.
   */
  release(): Promise<void>;
  records(): Promise<RecordRepository>;
  store(): Promise<ObjectStore>;
  generator(): Promise<RecordFileGenerator>;
  tasks(): Promise<TaskManager>;
}

/** Runs `fn` with a fresh context and always releases what it opened. */
export async function withContext<T>(fn: (ctx: CommandContext) => Promise<T>): Promise<T> {
  const settings = loadSettings();
  let opened: Promise<Database> | undefined;
  let store: Promise<ObjectStore> | undefined;
  let logger: Promise<Logger> | undefined;
  const getStore = () => {
    store ??= import('@mediaforge/storage').then(({ openObjectStore }) => openObjectStore(settings));
    return store;
  };
  const database = () => {
    opened ??= import('@mediaforge/core/database').then(({ openDatabaseFromSettings }) =>
      openDatabaseFromSettings(settings),
    );
    return opened;
  };
  const release = async () => {
    const pending = opened;
    opened = undefined;
    if (pending) await (await pending.catch(() => undefined))?.close();
  };
  try {
    return await fn({
      settings,
      logger: () => {
        logger ??= import('@mediaforge/core/logging').then(({ createLogger }) =>
          createLogger({ level: settings.logLevel, beforeLine: clearProgressLine }),
        );
        return logger;
      },
      database,
      release,
      records: async () => {
        const { RecordRepository } = await import('@mediaforge/core/records');
        return new RecordRepository((await database()).db, { quota: settings.quota });
      },
      store: getStore,
      generator: async () => {
        const { ALL_USERS, RecordFileGenerator } = await import('@mediaforge/core');
        return new RecordFileGenerator({
          db: (await database()).db,
          store: await getStore(),
          settings,
          scope: ALL_USERS,
          // The quick path is about throughput: thumbnails only when THUMBNAILS=true.
          thumbnails: settings.uploads.thumbnails ?? false,
        });
      },
      tasks: async () => {
        const { TaskManager } = await import('@mediaforge/core/tasks');
        return new TaskManager({ database: await database(), settings });
      },
    });
  } finally {
    await release();
  }
}
