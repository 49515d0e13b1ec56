/**
 * URL ingest (seed 004), a source of the one file pipeline: download (streaming, SSRF-guarded), then prepare
 * (detect, validate, compress), dedupe per owner, store, and a new record (`source = url`). Nothing reaches the store
 * or the database until the file has passed every check; a failure leaves no object and no record behind.
 */
import { and, eq } from 'drizzle-orm';
import type { Settings } from '../config/settings.ts';
import type { Db } from '../db/database.ts';
import { records } from '../db/schema.ts';
import type { ErrorCode } from '../error-codes.ts';
import { FileProcessingError } from '../errors.ts';
import type { FileStore } from '../files/file-store.ts';
import { nameFromDisposition, nameFromUrl } from '../files/original-name.ts';
import { withPreparedFile } from '../files/prepare.ts';
import { sizeCap } from '../files/size-cap.ts';
import { storeFile } from '../files/store-file.ts';
import { attachThumbnail, prepareThumbnail } from '../files/thumbnail-object.ts';
import type { AllowedTypes } from '../files/type-filter.ts';
import type { Logger } from '../logging/logger.ts';
import type { MediaInfo } from '../media/validate/media-info.ts';
import type { MediaRecord } from '../records/record.ts';
import { asTypedError } from '../typed-error.ts';
import { newUid } from '../uid.ts';
import { createBatchPacing } from './batch-pacing.ts';
import { type DownloadOptions, downloadFile } from './download.ts';
import { type NetworkPolicy, publicSourceUrl, safeUrl } from './guard.ts';
import { checkRequestHeaders } from './request-headers.ts';

export interface IngestContext {
  db: Db;
  store: FileStore;
  settings: Pick<Settings, 'maxFileSizeBytes' | 'maxBatchSize' | 'home'> &
    Partial<Pick<Settings, 'download' | 'quota'>>;
  policy?: NetworkPolicy;
  userId?: string;
  generationId?: string;
  /** Recompress images (default true) at this JPEG/WebP/AVIF quality (default 85). */
  compress?: boolean;
  quality?: number;
  /** Per-call size cap in bytes; may only lower MAX_FILE_SIZE_MB. */
  maxSize?: number;
  /** Only these types are stored (see `parseAllowedTypes`); others fail FILE_TYPE_NOT_ALLOWED, storing nothing. */
  allowedTypes?: AllowedTypes;
  /** `headers` go only to the URL's own origin; they are checked with `checkRequestHeaders` and never logged. */
  download?: Omit<DownloadOptions, 'maxSize' | 'policy' | 'signal' | 'onProgress' | 'onRetry'>;
  signal?: AbortSignal;
  /** Each file's outcome at info (batches), every download retry at warn, traces at debug; nothing without it. */
  logger?: Logger;
  onBytes?: (url: string, downloaded: number, total: number | undefined) => void;
  /**
   * The uid the new record gets (default: a fresh one). The job queue fixes it per item, so an item run twice
   * (at-least-once delivery) finds its own record the second time instead of creating another.
   */
  recordUid?: string;
  /**
   * With `recordUid`: look for a record an earlier run made only after downloading, not before (the queue's first
   * attempt, where there is rarely one). It saves a statement per item; a record found afterwards is still the result.
   */
  firstAttempt?: boolean;
  /** Make a thumbnail of each stored image or video (THUMBNAILS; `serve` turns it on). */
  thumbnails?: boolean;
  /**
   * Called once the file is received and checked (and its thumbnail made), before it is stored, with the bytes it
   * holds in memory (0 when spooled to disk); storing waits for it. A batch gives the URL's download place to the
   * next URL here, and a worker the item's slot.
   */
  onDownloaded?: (bytesInMemory: number) => Promise<void>;
}

/** The seed's FileMetadata: what one processed URL became. */
export interface FileMetadata {
  recordUid: string;
  sourceUrl: string;
  storageKey: string;
  objectUrl: string;
  contentType: string;
  mediaType: string;
  size: number;
  originalSize: number;
  sha256: string;
  /** The record whose object this one shares, when the content was already stored for the owner. */
  duplicateOf?: string;
  compressed: boolean;
  info: Omit<MediaInfo, 'contentType' | 'mediaType' | 'size'>;
  /** The seed's `original_filename`: from Content-Disposition or the URL path, sanitised. */
  originalName?: string;
}

export interface ProcessingResult {
  success: boolean;
  totalFiles: number;
  processedFiles: FileMetadata[];
  failedFiles: { url: string; error: string; code: string }[];
  /** Seconds. */
  processingTime: number;
}

/** Downloads, checks and stores one URL as a new record. Throws typed errors; nothing is stored on failure. */
export async function processUrl(url: string, ctx: IngestContext): Promise<FileMetadata> {
  if (ctx.recordUid && !ctx.firstAttempt) {
    const done = await existingResult(ctx, ctx.recordUid);
    if (done) return done;
  }
  const configured = ctx.settings.download;
  const shown = safeUrl(url);
  // A child logger sets up its redaction per URL: one is made only when its debug lines would be written.
  const log = ctx.logger?.isLevelEnabled('debug') ? ctx.logger.child({ url: shown }) : undefined;
  log?.debug('download starting');
  const download = await downloadFile(url, {
    ...(configured
      ? {
          retries: configured.retries,
          timeouts: {
            connectMs: configured.connectMs,
            firstByteMs: configured.idleMs,
            idleMs: configured.idleMs,
            minBytesPerSecond: configured.minBytesPerSecond,
          },
        }
      : {}),
    ...ctx.download,
    ...(ctx.download?.headers ? { headers: checkRequestHeaders(ctx.download.headers) } : {}),
    maxSize: sizeCap(ctx.settings.maxFileSizeBytes, ctx.maxSize),
    ...(ctx.policy ? { policy: ctx.policy } : {}),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    onProgress: (downloaded, total) => ctx.onBytes?.(url, downloaded, total),
    onRetry: ({ attempt, waitMs, cause }) =>
      ctx.logger?.warn(
        { url: shown, attempt, waitMs, cause: errorText(cause) },
        `download attempt ${attempt} failed; retrying`,
      ),
  });
  log?.debug({ status: download.status, contentType: download.contentType }, 'download responded');
  const prepare = {
    home: ctx.settings.home,
    url,
    hint: `(from ${shown})`,
    ...(download.contentType ? { declaredType: download.contentType } : {}),
    ...(ctx.compress === undefined ? {} : { compress: ctx.compress }),
    ...(ctx.quality === undefined ? {} : { quality: ctx.quality }),
    ...(ctx.allowedTypes ? { allowedTypes: ctx.allowedTypes } : {}),
    ...(ctx.userId ? { owner: ctx.userId } : {}),
    // The local disk takes the spool over and syncs it: its writeback overlaps the download.
    ...(ctx.store.putFileAdopts ? { syncWhileSpooling: true } : {}),
    // The socket's chunks are ours: each is freed once written.
    ownsChunks: true,
  };
  const originalName =
    nameFromDisposition(download.contentDisposition) ?? nameFromUrl(download.url) ?? nameFromUrl(url);
  const uid = ctx.recordUid ?? newUid();
  const userId = ctx.userId ?? null;
  return withPreparedFile(download.stream, prepare, async (file) => {
    // The thumbnail is decoding work, done in the download's place; what follows is the disk and the database.
    const made = ctx.thumbnails ? await prepareThumbnail(file, ctx.userId) : undefined;
    await ctx.onDownloaded?.(file.spool ? 0 : file.size);
    const stored = await storeFile(
      file,
      { create: { uid, userId, generationId: ctx.generationId ?? null } },
      { source: 'url', sourceUrl: publicSourceUrl(url) ?? null, originalName },
      { db: ctx.db, store: ctx.store, settings: ctx.settings, ...(ctx.signal ? { signal: ctx.signal } : {}) },
    );
    if (!stored.record) {
      // The same queue item ran twice: the first run's record is the result.
      const done = await existingResult(ctx, uid);
      if (done) return done;
      throw new FileProcessingError(`Record ${uid} exists already without a file from this URL.`, 'RECORD_EXISTS');
    }
    if (made) await attachThumbnail(ctx, stored.record, made);
    return resultOf(stored.record, file.originalSize, file.compressed);
  });
}

export interface BatchOptions extends Omit<IngestContext, 'signal'> {
  urls: readonly string[];
  /** URLs downloaded and checked at once (default 3); files through are stored meanwhile (batch-pacing.ts). */
  maxConcurrent?: number;
  /** After each URL; `ok` says whether it was stored. */
  onProgress?: (completed: number, total: number, currentUrl: string, ok: boolean) => void;
  signal?: AbortSignal;
}

/** Processes every URL; a bad URL never stops the batch. */
export async function processFileBatch(options: BatchOptions): Promise<ProcessingResult> {
  const { urls, maxConcurrent = 3, onProgress, ...ctx } = options;
  if (urls.length > ctx.settings.maxBatchSize) {
    throw new FileProcessingError(
      `The batch has ${urls.length} URLs, over MAX_BATCH_SIZE (${ctx.settings.maxBatchSize}); split it.`,
      'BATCH_TOO_LARGE',
      { details: { count: urls.length, limit: ctx.settings.maxBatchSize } },
    );
  }
  const started = performance.now();
  const processed: (FileMetadata | undefined)[] = new Array(urls.length);
  const failed: { index: number; url: string; error: string; code: ErrorCode }[] = [];
  let next = 0;
  let completed = 0;
  // `maxConcurrent` URLs are downloaded at once; files already through are stored beside them (batch-pacing.ts).
  const pacing = createBatchPacing(Math.max(1, Math.floor(maxConcurrent) || 1));
  // Items start in order of index; duplicates within one batch are caught because files with the same content take
  // turns (storeFile's per-content lock) and each finds the record the one before it wrote.
  const worker = async () => {
    while (next < urls.length) {
      const pass = await pacing.start();
      if (next >= urls.length) {
        pass.done();
        break;
      }
      const index = next++;
      const url = urls[index] as string;
      let ok = false;
      try {
        if (ctx.signal?.aborted) throw new FileProcessingError('cancelled before it started', 'CANCELLED');
        const file = await processUrl(url, { ...ctx, onDownloaded: pass.downloaded });
        processed[index] = file;
        ok = true;
        const { recordUid, storageKey, size, duplicateOf } = file;
        ctx.logger?.info({ url: safeUrl(url), recordUid, storageKey, size, duplicateOf }, 'file stored');
      } catch (error) {
        const { code } = asTypedError(error);
        failed.push({ index, url: safeUrl(url), error: (error as Error).message, code });
        ctx.logger?.warn({ url: safeUrl(url), code, error: errorText(error) }, 'file failed');
      }
      pass.done();
      completed += 1;
      onProgress?.(completed, urls.length, url, ok);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(pacing.lanes, urls.length)) }, worker));
  const processedFiles = processed.filter((file): file is FileMetadata => file !== undefined);
  return {
    success: failed.length === 0,
    totalFiles: urls.length,
    processedFiles,
    failedFiles: failed.sort((a, b) => a.index - b.index).map(({ index: _i, ...rest }) => rest),
    processingTime: (performance.now() - started) / 1000,
  };
}

/** The seed's convenience for AI generation outputs. */
export function uploadGenerationResult(
  ctx: Omit<BatchOptions, 'urls' | 'userId' | 'generationId'>,
  { userId, generationId, fileUrls }: { userId: string; generationId: string; fileUrls: readonly string[] },
): Promise<ProcessingResult> {
  return processFileBatch({ ...ctx, urls: fileUrls, userId, generationId });
}

/** A record already made for this uid by this owner (an earlier run of the same queue item), as its result. */
async function existingResult(ctx: IngestContext, uid: string): Promise<FileMetadata | undefined> {
  const [record] = await ctx.db
    .select()
    .from(records)
    .where(and(eq(records.uid, uid), ctx.userId ? eq(records.userId, ctx.userId) : undefined));
  if (!record?.storageKey || !record.sha256 || !record.contentType) return undefined;
  if ((record.userId ?? null) !== (ctx.userId ?? null)) return undefined;
  const original = (record.metadata as { original?: { size?: number } }).original;
  return resultOf(
    record,
    original?.size ?? record.fileSize ?? 0,
    (original?.size ?? record.fileSize) !== record.fileSize,
  );
}

/** The seed's FileMetadata of a record made from a URL. */
function resultOf(record: MediaRecord, originalSize: number, compressed: boolean): FileMetadata {
  const metadata = record.metadata as { duplicate_of?: string };
  return {
    recordUid: record.uid,
    sourceUrl: record.sourceUrl ?? '',
    storageKey: record.storageKey ?? '',
    objectUrl: record.fileUrl ?? '',
    contentType: record.contentType ?? '',
    mediaType: record.mediaType,
    size: record.fileSize ?? 0,
    originalSize,
    sha256: record.sha256 ?? '',
    compressed,
    info: record.mediaInfo ?? {},
    ...(record.originalName ? { originalName: record.originalName } : {}),
    ...(metadata.duplicate_of ? { duplicateOf: metadata.duplicate_of } : {}),
  };
}

function errorText(error: unknown): string {
  return error instanceof FileProcessingError ? `${error.code}: ${error.message}` : String(error);
}
