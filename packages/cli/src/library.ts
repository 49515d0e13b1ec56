/**
 * The seed's function-style API, ready to call: each opens the database and object store from the environment's
 * settings (or uses the ones passed in `deps`), runs the record file generator, and closes what it opened.
 */
import {
  ALL_USERS,
  type AutoResult,
  type BulkOptions,
  type FileResult,
  loadSettings,
  openDatabaseFromSettings,
  type ProcessOptions,
  RecordFileGenerator,
  type RecordFileGeneratorDeps,
} from '@mediaforge/core';
import { openObjectStore } from '@mediaforge/storage';

async function withGenerator<T>(
  deps: RecordFileGeneratorDeps | undefined,
  fn: (generator: RecordFileGenerator) => Promise<T>,
): Promise<T> {
  if (deps) return fn(new RecordFileGenerator(deps));
  const settings = loadSettings();
  const database = await openDatabaseFromSettings(settings);
  try {
    return await fn(
      new RecordFileGenerator({ db: database.db, store: openObjectStore(settings), settings, scope: ALL_USERS }),
    );
  } finally {
    await database.close();
  }
}

/** @example const result = await createFileForRecord({ recordUid, fileSizeKb: 15 }); */
export function createFileForRecord(
  { recordUid, ...options }: ProcessOptions & { recordUid: string },
  deps?: RecordFileGeneratorDeps,
): Promise<FileResult> {
  return withGenerator(deps, (generator) => generator.processRecord(recordUid, options));
}

export function bulkCreateFilesForRecords(
  uids: readonly string[],
  options: BulkOptions = {},
  deps?: RecordFileGeneratorDeps,
): Promise<FileResult[]> {
  return withGenerator(deps, (generator) => generator.bulkProcessRecords(uids, options));
}

export function autoGenerateFilesForPendingRecords(
  options: BulkOptions & { limit?: number } = {},
  deps?: RecordFileGeneratorDeps,
): Promise<AutoResult> {
  return withGenerator(deps, (generator) => generator.autoGenerate(options));
}
