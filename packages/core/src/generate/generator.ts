/**
 * The record file generator (seed 000), a source of the one file pipeline: for each record, synthesize real media of
 * its type, then claim the record, prepare (detect, validate), dedupe, store and complete it like any other file.
 * Safe when several generators run at once (claims) and when one crashes half-way: a file stored but not recorded is
 * found and re-hashed by the next run instead of being written again.
 */
import { and, eq } from 'drizzle-orm';
import type { Settings } from '../config/settings.ts';
import type { Db } from '../db/database.ts';
import { type MediaType, records } from '../db/schema.ts';
import type { ErrorCode } from '../error-codes.ts';
import { FileProcessingError, RecordNotFoundError } from '../errors.ts';
import type { FileStore } from '../files/file-store.ts';
import { type PreparedFile, withPreparedFile } from '../files/prepare.ts';
import { claimRecord, releaseClaim } from '../files/record-claims.ts';
import { type StoredFile, storeFile, storeObjectOnly } from '../files/store-file.ts';
import { attachThumbnail, prepareThumbnail } from '../files/thumbnail-object.ts';
import { synthesize } from '../media/synth/synthesize.ts';
import type { MediaRecord } from '../records/record.ts';
import { type Scope, scopeCondition } from '../scope.ts';
import { asTypedError } from '../typed-error.ts';
import { parseUid } from '../uid.ts';
import { checkedSize, DEFAULT_FILE_SIZE_KB, recordsWithoutFiles } from './pending.ts';

/** Errors that refuse the request rather than fail the record, whose status they leave as it was. */
const REFUSALS: ReadonlySet<string> = new Set(['QUOTA_EXCEEDED', 'INVALID_SIZE']);

export { checkedSize, DEFAULT_FILE_SIZE_KB, recordsWithoutFiles } from './pending.ts';

export interface UploadResult {
  key: string;
  objectUrl: string;
  size: number;
  etag: string;
  sha256: string;
  contentType: string;
}

export interface FileResult {
  success: boolean;
  recordUid: string;
  uploadResult?: UploadResult;
  /** What happened: uploaded, recovered (an earlier upload completed), skipped (already had a file), failed. */
  outcome: 'uploaded' | 'recovered' | 'skipped' | 'failed';
  mediaType?: MediaType;
  error?: { code: ErrorCode; message: string; transient?: boolean };
}

/** A file that was generated (or found complete): `generate` throws instead of returning a failure. */
export type GeneratedFile = FileResult & { success: true; outcome: Exclude<FileResult['outcome'], 'failed'> };

export interface ProcessOptions {
  /** Size of the file to synthesize, in KiB. Default 15. */
  fileSizeKb?: number;
  /** Claim and update the record (default). `false` only writes the object, as the seed's `update_record=False`. */
  updateRecord?: boolean;
  /** Regenerate records that already have a file. */
  force?: boolean;
  /**
   * Take over a `processing` claim older than this (default: TASK_TIMEOUT_MINUTES). The job queue passes its lease
   * length when it re-runs an item whose worker died, so the dead worker's claim does not block the record.
   */
  staleClaimAfterMs?: number;
  signal?: AbortSignal;
}

export interface BulkProgress {
  completed: number;
  total: number;
  succeeded: number;
  failed: number;
  bytes: number;
  last: FileResult;
}

export interface BulkOptions extends Omit<ProcessOptions, 'updateRecord'> {
  updateRecords?: boolean;
  /** Records processed at once. Default 4. */
  concurrency?: number;
  /** At most this many records started per second. */
  ratePerSecond?: number;
  onProgress?: (progress: BulkProgress) => void;
}

export interface AutoResult {
  processed: number;
  successful: number;
  failed: number;
  results: FileResult[];
}

export interface RecordFileGeneratorDeps {
  db: Db;
  store: FileStore;
  settings: Pick<Settings, 'maxFileSizeBytes' | 'taskTimeoutMinutes' | 'home'> & Partial<Pick<Settings, 'quota'>>;
  /** Whose records this generator may touch; others look missing. */
  scope: Scope;
  /** Make a thumbnail of each stored image or video (THUMBNAILS; workers turn it on, the CLI quick path off). */
  thumbnails?: boolean;
}

export class RecordFileGenerator {
  constructor(private readonly deps: RecordFileGeneratorDeps) {}

  /** Records that need a file: pending or failed without one, or claims abandoned past the task timeout. */
  async getRecordsWithoutFiles(limit = 100): Promise<MediaRecord[]> {
    return recordsWithoutFiles(this.deps.db, this.deps.scope, this.deps.settings.taskTimeoutMinutes * 60_000, limit);
  }

  /** Generates, verifies and stores one record's file. Never throws for a per-record problem: see `error`. */
  async processRecord(recordUid: string, options: ProcessOptions = {}): Promise<FileResult> {
    try {
      return await this.generate(recordUid, options);
    } catch (error) {
      return failure(recordUid, error);
    }
  }

  /** One result per uid, in order; one failing record never stops the others. */
  async bulkProcessRecords(uids: readonly string[], options: BulkOptions = {}): Promise<FileResult[]> {
    const { concurrency = 4, ratePerSecond, onProgress, signal, updateRecords = true, ...rest } = options;
    const results: FileResult[] = new Array(uids.length);
    const progress = { completed: 0, total: uids.length, succeeded: 0, failed: 0, bytes: 0 };
    const interval = ratePerSecond && ratePerSecond > 0 ? 1000 / ratePerSecond : 0;
    let nextStart = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < uids.length) {
        const index = next++;
        const uid = uids[index] as string;
        if (interval) {
          const wait = nextStart - performance.now();
          nextStart = Math.max(nextStart, performance.now()) + interval;
          if (wait > 0) await Bun.sleep(wait);
        }
        const result = signal?.aborted
          ? failure(uid, new FileProcessingError('cancelled before it started', 'CANCELLED'))
          : await this.processRecord(uid, { ...rest, signal, updateRecord: updateRecords });
        results[index] = result;
        progress.completed += 1;
        if (result.success) progress.succeeded += 1;
        else progress.failed += 1;
        progress.bytes += result.uploadResult?.size ?? 0;
        onProgress?.({ ...progress, last: result });
      }
    };
    const workers = Math.max(1, Math.min(concurrency, uids.length));
    await Promise.all(Array.from({ length: workers }, worker));
    return results;
  }

  /** Finds up to `limit` records without files and generates them. */
  async autoGenerate(options: BulkOptions & { limit?: number } = {}): Promise<AutoResult> {
    const { limit = 100, ...bulk } = options;
    const pending = await this.getRecordsWithoutFiles(limit);
    const results = await this.bulkProcessRecords(
      pending.map((record) => record.uid),
      bulk,
    );
    const successful = results.filter((result) => result.success).length;
    return { processed: results.length, successful, failed: results.length - successful, results };
  }

  /**
   * Generates, verifies and stores one record's file. @throws the typed error of any failure (RECORD_NOT_FOUND,
   * INVALID_SIZE and FILE_SIZE_EXCEEDED before the record is touched, RECORD_BUSY, storage errors …)
   */
  async generate(recordUid: string, options: ProcessOptions = {}): Promise<GeneratedFile> {
    const uid = parseUid(recordUid);
    const fileSizeKb = options.fileSizeKb ?? DEFAULT_FILE_SIZE_KB;
    const sizeBytes = checkedSize(fileSizeKb, this.deps.settings.maxFileSizeBytes);
    const { db, scope } = this.deps;
    if (options.updateRecord === false) {
      const [record] = await db
        .select()
        .from(records)
        .where(and(eq(records.uid, uid), scopeCondition(records.userId, scope)));
      if (!record) throw new RecordNotFoundError(uid);
      const uploadResult = await this.synthesized(record, sizeBytes, async (file): Promise<UploadResult> => {
        const object = await storeObjectOnly(
          file,
          record,
          generatedProvenance(fileSizeKb),
          this.context(options.signal),
        );
        const { sha256, size, contentType } = file;
        return { key: object.storageKey, objectUrl: object.objectUrl, size, etag: '', sha256, contentType };
      });
      return { success: true, recordUid: uid, mediaType: record.mediaType, outcome: 'uploaded', uploadResult };
    }
    const claimed = await claimRecord(db, uid, {
      scope,
      ifHasFile: options.force ? 'replace' : 'skip',
      staleAfterMs: options.staleClaimAfterMs ?? this.deps.settings.taskTimeoutMinutes * 60_000,
    });
    if (claimed.skipped) {
      return {
        success: true,
        recordUid: uid,
        mediaType: claimed.skipped.mediaType,
        outcome: 'skipped',
        uploadResult: uploadOf(claimed.skipped),
      };
    }
    const { claim } = claimed;
    try {
      const stored: StoredFile = await this.synthesized(claim.before, sizeBytes, async (file) => {
        const made = this.deps.thumbnails ? await prepareThumbnail(file, claim.before.userId) : undefined;
        const done = await storeFile(file, { claim }, generatedProvenance(fileSizeKb), this.context(options.signal));
        if (made && done.record) await attachThumbnail(this.deps, done.record, made);
        return done;
      });
      const record = stored.record as MediaRecord;
      return {
        success: true,
        recordUid: uid,
        mediaType: record.mediaType,
        outcome: stored.origin === 'leftover' ? 'recovered' : 'uploaded',
        uploadResult: uploadOf(record),
      };
    } catch (error) {
      // A record without a file is marked failed (retried by the next run); one with a file keeps it untouched.
      // A refused request (over the quota, a size synthesis cannot make) is not the record's failure: it stays as
      // it was.
      const refused = error instanceof FileProcessingError && REFUSALS.has(error.code);
      const outcome = refused ? 'restore' : 'fail';
      await releaseClaim(db, claim, { outcome, error }).catch(() => {});
      throw error;
    }
  }

  /** Synthesizes the record's media and hands it, prepared like any other file, to `fn`. */
  private async synthesized<T>(
    record: MediaRecord,
    sizeBytes: number,
    fn: (file: PreparedFile) => Promise<T>,
  ): Promise<T> {
    const synthesized = await synthesize({
      mediaType: record.mediaType,
      sizeBytes,
      seed: record.uid,
      ...(record.userId ? { owner: record.userId } : {}),
    });
    return withPreparedFile(
      synthesized.stream,
      {
        home: this.deps.settings.home,
        declaredType: synthesized.contentType,
        maxSize: Math.ceil(this.deps.settings.maxFileSizeBytes * 1.2),
        // Generated media is stored exactly as synthesized (deterministic for a uid and size).
        compress: false,
        ...(record.userId ? { owner: record.userId } : {}),
      },
      fn,
    );
  }

  private context(signal: AbortSignal | undefined) {
    return { db: this.deps.db, store: this.deps.store, settings: this.deps.settings, ...(signal ? { signal } : {}) };
  }
}

/** What a generated file says about itself, on the record and on the object. */
function generatedProvenance(fileSizeKb: number) {
  return {
    source: 'generated' as const,
    metadata: { generation: { fileSizeKb } },
    objectMetadata: { file_size_kb: String(fileSizeKb) },
  };
}

/** The seed's upload result, from a record with a file. */
function uploadOf(record: MediaRecord): UploadResult | undefined {
  if (!record.storageKey) return undefined;
  return {
    key: record.storageKey,
    objectUrl: record.fileUrl ?? '',
    size: record.fileSize ?? 0,
    etag: '',
    sha256: record.sha256 ?? '',
    contentType: record.contentType ?? '',
  };
}

function failure(recordUid: string, thrown: unknown): FileResult {
  const { code, message, transient } = asTypedError(thrown);
  return { success: false, recordUid, outcome: 'failed', error: { code, message, transient } };
}
