/**
 * The seed's function-style API (`create_file_for_record`, `bulk_create_files_for_records`,
 * `auto_generate_files_for_pending_records`), over the record file generator. Each takes the database, the object
 * store and the settings it works with (from `openMediaforge()` in `@mediaforge/storage`, or your own), and acts for
 * everyone unless a `scope` says otherwise.
 *
 * @example
 * const deps = await openMediaforge();
 * const result = await createFileForRecord({ recordUid, fileSizeKb: 15 }, deps);
 * await deps.close();
 */
import {
  type AutoResult,
  type BulkOptions,
  type FileResult,
  type ProcessOptions,
  RecordFileGenerator,
  type RecordFileGeneratorDeps,
} from './generate/generator.ts';
import { ALL_USERS } from './scope.ts';

/** What the library functions work with; `scope` defaults to everyone (the caller is the operator). */
export type LibraryDeps = Omit<RecordFileGeneratorDeps, 'scope'> & Partial<Pick<RecordFileGeneratorDeps, 'scope'>>;

const generatorFor = (deps: LibraryDeps) => new RecordFileGenerator({ ...deps, scope: deps.scope ?? ALL_USERS });

/** Generates, verifies and stores one record's file. Never throws for a per-record problem: see `error`. */
export function createFileForRecord(
  { recordUid, ...options }: ProcessOptions & { recordUid: string },
  deps: LibraryDeps,
): Promise<FileResult> {
  return generatorFor(deps).processRecord(recordUid, options);
}

/** One result per uid, in order; one failing record never stops the others. */
export function bulkCreateFilesForRecords(
  uids: readonly string[],
  options: BulkOptions,
  deps: LibraryDeps,
): Promise<FileResult[]> {
  return generatorFor(deps).bulkProcessRecords(uids, options);
}

/** Finds up to `limit` records without files (default 100) and generates them. */
export function autoGenerateFilesForPendingRecords(
  options: BulkOptions & { limit?: number },
  deps: LibraryDeps,
): Promise<AutoResult> {
  return generatorFor(deps).autoGenerate(options);
}
