/**
 * The record file generator (seed 000): for each record, synthesize real media of its type, verify it, store it as
 * `{media_type}/{uid}{ext}` with provenance metadata, and record where it went — safely when several generators
 * run at once and when one crashes half-way.
 *
 * Claims: a record is taken by moving it to `processing` in one guarded UPDATE, so two generators never both work
 * on it; a claim older than the task timeout is considered abandoned and may be taken over. Every later write is
 * guarded on `status = 'processing'`. A crash between upload and record update is completed on the next run from
 * the object itself (its sha256 is re-read and checked) instead of uploading again.
 */
import { and, asc, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import type { Settings } from '../config/settings.ts';
import type { Db } from '../db/database.ts';
import { type MediaType, records } from '../db/schema.ts';
import type { ErrorCode } from '../error-codes.ts';
import { FileProcessingError, FileSizeExceededError, RecordNotFoundError } from '../errors.ts';
import { readAll } from '../media/peek.ts';
import { DEFAULT_TYPE_FOR, supportedTypeForMime } from '../media/supported.ts';
import { synthesize } from '../media/synth/synthesize.ts';
import { validateFileIntegrity } from '../media/validate/validate.ts';
import type { MediaRecord } from '../records/record.ts';
import { asTypedError } from '../typed-error.ts';
import { parseUid } from '../uid.ts';
import { type GeneratorStore, sha256Hex, sha256OfStream } from './store.ts';

export const DEFAULT_FILE_SIZE_KB = 15;

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
  store: GeneratorStore;
  settings: Pick<Settings, 'maxFileSizeBytes' | 'taskTimeoutMinutes'>;
}

/** A `processing` claim older than `afterMs`: its generator is presumed gone. */
function staleClaim(afterMs: number) {
  return and(
    eq(records.status, 'processing'),
    lt(records.updatedAt, sql`now() - make_interval(secs => ${afterMs / 1000}::double precision)`),
  );
}

/** Records that need a file: pending or failed without one, or claims abandoned for `staleAfterMs`. */
export function recordsWithoutFiles(db: Db, staleAfterMs: number, limit = 100): Promise<MediaRecord[]> {
  return db
    .select()
    .from(records)
    .where(
      and(isNull(records.storageKey), or(inArray(records.status, ['pending', 'failed']), staleClaim(staleAfterMs))),
    )
    .orderBy(asc(records.createdAt), asc(records.uid))
    .limit(Math.max(1, Math.min(limit, 100_000)));
}

export class RecordFileGenerator {
  constructor(private readonly deps: RecordFileGeneratorDeps) {}

  /** Records that need a file: pending or failed without one, or claims abandoned past the task timeout. */
  async getRecordsWithoutFiles(limit = 100): Promise<MediaRecord[]> {
    return recordsWithoutFiles(this.deps.db, this.deps.settings.taskTimeoutMinutes * 60_000, limit);
  }

  /** Generates, verifies and stores one record's file. Never throws for a per-record problem: see `error`. */
  async processRecord(recordUid: string, options: ProcessOptions = {}): Promise<FileResult> {
    try {
      return await this.process(recordUid, options);
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

  private staleClaim(afterMs = this.deps.settings.taskTimeoutMinutes * 60_000) {
    return staleClaim(afterMs);
  }

  private async process(recordUid: string, options: ProcessOptions): Promise<FileResult> {
    const uid = parseUid(recordUid);
    const fileSizeKb = options.fileSizeKb ?? DEFAULT_FILE_SIZE_KB;
    const sizeBytes = Math.round(fileSizeKb * 1024);
    if (!(fileSizeKb > 0)) {
      throw new FileProcessingError(`File size must be a positive number of KiB (got ${fileSizeKb}).`, 'INVALID_SIZE');
    }
    if (sizeBytes > this.deps.settings.maxFileSizeBytes) {
      throw new FileSizeExceededError(this.deps.settings.maxFileSizeBytes, sizeBytes, 'The requested file');
    }
    const updateRecord = options.updateRecord ?? true;

    let record: MediaRecord;
    if (updateRecord) {
      const claimed = await this.claim(uid, options.force ?? false, options.staleClaimAfterMs);
      if (!claimed.record) return claimed.result;
      record = claimed.record;
    } else {
      const [found] = await this.deps.db.select().from(records).where(eq(records.uid, uid));
      if (!found) throw new RecordNotFoundError(uid);
      record = found;
    }

    try {
      const result = await this.produce(record, fileSizeKb, sizeBytes, options.signal);
      if (updateRecord) await this.complete(record, result);
      return {
        success: true,
        recordUid: uid,
        mediaType: record.mediaType,
        outcome: result.recovered ? 'recovered' : 'uploaded',
        uploadResult: result.upload,
      };
    } catch (error) {
      if (updateRecord) await this.release(uid, error);
      throw error;
    }
  }

  /** Moves the record to `processing` if it is free; otherwise says why not. */
  private async claim(
    uid: string,
    force: boolean,
    staleAfterMs?: number,
  ): Promise<{ record: MediaRecord; result?: never } | { record?: never; result: FileResult }> {
    const stale = this.staleClaim(staleAfterMs);
    const claimable = force
      ? or(inArray(records.status, ['pending', 'failed', 'uploaded']), stale)
      : or(and(inArray(records.status, ['pending', 'failed']), isNull(records.storageKey)), stale);
    const [record] = await this.deps.db
      .update(records)
      .set({ status: 'processing', error: null, updatedAt: new Date() })
      .where(and(eq(records.uid, uid), claimable))
      .returning();
    if (record) return { record };
    const [current] = await this.deps.db.select().from(records).where(eq(records.uid, uid));
    if (!current) throw new RecordNotFoundError(uid);
    if (current.status === 'processing') {
      throw new FileProcessingError(`Record ${uid} is being processed by another generator.`, 'RECORD_BUSY', {
        transient: true,
      });
    }
    // Already has its file: nothing to do (use `force` to regenerate).
    return {
      result: {
        success: true,
        recordUid: uid,
        mediaType: current.mediaType,
        outcome: 'skipped',
        ...(current.storageKey
          ? {
              uploadResult: {
                key: current.storageKey,
                objectUrl: current.fileUrl ?? '',
                size: current.fileSize ?? 0,
                etag: '',
                sha256: current.sha256 ?? '',
                contentType: current.contentType ?? '',
              },
            }
          : {}),
      },
    };
  }

  /** The object for the record: an intact earlier upload when there is one, else a freshly synthesized file. */
  private async produce(
    record: MediaRecord,
    fileSizeKb: number,
    sizeBytes: number,
    signal: AbortSignal | undefined,
  ): Promise<{ upload: UploadResult; info: Record<string, unknown>; recovered: boolean }> {
    const { store } = this.deps;
    const { mediaType, uid } = record;
    const type = supportedTypeForMime(DEFAULT_TYPE_FOR[mediaType]);
    const key = `${mediaType}/${uid}${type?.extension ?? ''}`;

    const existing = await store.head(key);
    if (existing && existing.metadata.record_uid === uid && existing.metadata.file_size_kb === String(fileSizeKb)) {
      const object = await store.get(key);
      const actual = object ? await sha256OfStream(object.body) : undefined;
      if (actual && actual === existing.metadata.sha256) {
        return {
          recovered: true,
          info: {},
          upload: {
            key,
            objectUrl: store.objectUrl(key),
            size: existing.size,
            etag: existing.etag,
            sha256: actual,
            contentType: existing.contentType,
          },
        };
      }
    }

    const synthesized = await synthesize({ mediaType, sizeBytes, seed: uid });
    // The sha256 goes into the object's metadata, which is sent before the body: the file is held in memory, and
    // is bounded by MAX_FILE_SIZE_MB (checked before any work).
    const bytes = await readAll(synthesized.stream, this.deps.settings.maxFileSizeBytes * 1.2);
    const info = await validateFileIntegrity(bytes, synthesized.contentType);
    const sha256 = sha256Hex(bytes);
    const put = await store.put(key, bytes, {
      contentType: synthesized.contentType,
      metadata: {
        record_uid: uid,
        media_type: mediaType,
        generated: 'true',
        generated_at: new Date().toISOString(),
        file_size_kb: String(fileSizeKb),
        sha256,
      },
      ...(signal ? { signal } : {}),
    });
    const { contentType: _type, mediaType: _media, size: _size, ...details } = info;
    return {
      recovered: false,
      info: details,
      upload: {
        key,
        objectUrl: put.url,
        size: put.size,
        etag: put.etag,
        sha256,
        contentType: synthesized.contentType,
      },
    };
  }

  /** Records the file; guarded on the claim so a generator that lost it changes nothing. */
  private async complete(
    record: MediaRecord,
    result: { upload: UploadResult; info: Record<string, unknown> },
  ): Promise<void> {
    const { upload } = result;
    const type = supportedTypeForMime(upload.contentType);
    const [updated] = await this.deps.db
      .update(records)
      .set({
        fileUrl: upload.objectUrl,
        fileName: upload.key.slice(upload.key.lastIndexOf('/') + 1),
        fileSize: upload.size,
        contentType: type?.mime ?? upload.contentType,
        sha256: upload.sha256,
        storageKey: upload.key,
        source: 'generated',
        metadata: sql`${records.metadata} || ${JSON.stringify({ media: result.info })}::jsonb`,
        status: 'uploaded',
        error: null,
        updatedAt: new Date(),
      })
      .where(and(eq(records.uid, record.uid), eq(records.status, 'processing')))
      .returning({ uid: records.uid });
    if (!updated) {
      throw new FileProcessingError(
        `Record ${record.uid} was taken over by another generator before it could be updated; its object is stored.`,
        'CLAIM_LOST',
      );
    }
  }

  /** Marks the claimed record failed with the error, to be retried on the next run. */
  private async release(uid: string, error: unknown): Promise<void> {
    const message = error instanceof Error ? error.message : String(error);
    await this.deps.db
      .update(records)
      .set({ status: 'failed', error: message.slice(0, 2000), updatedAt: new Date() })
      .where(and(eq(records.uid, uid), eq(records.status, 'processing')))
      .catch(() => {});
  }
}

function failure(recordUid: string, thrown: unknown): FileResult {
  const { code, message, transient } = asTypedError(thrown);
  return { success: false, recordUid, outcome: 'failed', error: { code, message, transient } };
}
