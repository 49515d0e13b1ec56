/**
 * The ingest pipeline (seed 004): download (streaming, SSRF-guarded) → detect by content → refuse unsupported →
 * validate integrity → compress images → sha256 → dedupe per owner → store at `{media_type}/{uid}{ext}` →
 * record (`source = url`).
 *
 * The body is spooled to a temporary file while it is hashed, so memory stays flat whatever the size; validation
 * reads the spool through a bounded window, and the store reads it as a stream. Images (bounded by the pixel and
 * size caps) are read into memory for decoding and recompression. Nothing reaches the store or the database until
 * the file has passed every check; a failure leaves no object and no record behind.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { and, eq, isNotNull } from 'drizzle-orm';
import type { Settings } from '../config/settings.ts';
import type { Db } from '../db/database.ts';
import { records } from '../db/schema.ts';
import { FileProcessingError, FileTypeNotSupportedError } from '../errors.ts';
import { type GeneratorStore, sha256Hex } from '../generate/store.ts';
import { compressImage } from '../media/compress.ts';
import { detectFileType } from '../media/detect.ts';
import { supportedTypeForMime } from '../media/supported.ts';
import type { MediaInfo } from '../media/validate/media-info.ts';
import { validateFileIntegrity } from '../media/validate/validate.ts';
import { newUid } from '../uid.ts';
import { type DownloadOptions, downloadFile } from './download.ts';
import { type NetworkPolicy, safeUrl, withoutCredentials } from './guard.ts';

export interface IngestContext {
  db: Db;
  store: GeneratorStore;
  settings: Pick<Settings, 'maxFileSizeBytes' | 'maxBatchSize' | 'home'>;
  policy?: NetworkPolicy;
  userId?: string;
  generationId?: string;
  /** Recompress images (default true) at this JPEG/WebP/AVIF quality (default 85). */
  compress?: boolean;
  quality?: number;
  /** Per-call size cap in bytes; defaults to MAX_FILE_SIZE_MB. */
  maxSize?: number;
  download?: Omit<DownloadOptions, 'maxSize' | 'policy' | 'signal' | 'onProgress'>;
  signal?: AbortSignal;
  onBytes?: (url: string, downloaded: number, total: number | undefined) => void;
  /**
   * The uid the new record gets (default: a fresh one). The job queue fixes it per item, so an item run twice
   * (at-least-once delivery) finds its own record the second time instead of creating another.
   */
  recordUid?: string;
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
  if (ctx.recordUid) {
    const done = await existingResult(ctx, ctx.recordUid);
    if (done) return done;
  }
  const maxSize = ctx.maxSize ?? ctx.settings.maxFileSizeBytes;
  const download = await downloadFile(url, {
    ...ctx.download,
    maxSize,
    ...(ctx.policy ? { policy: ctx.policy } : {}),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    onProgress: (downloaded, total) => ctx.onBytes?.(url, downloaded, total),
  });
  const detection = await detectFileType(download.stream, {
    url,
    ...(download.contentType ? { declaredType: download.contentType } : {}),
  });
  if (!detection.isValid || !detection.type) {
    await detection.stream.cancel().catch(() => {});
    throw new FileTypeNotSupportedError(detection.contentType, `(from ${safeUrl(url)})`);
  }
  const type = detection.type;

  const spoolDir = join(ctx.settings.home, 'tmp');
  await mkdir(spoolDir, { recursive: true });
  const spool = join(spoolDir, `ingest-${newUid()}`);
  try {
    const { sha256: originalSha, size: originalSize } = await spoolToFile(detection.stream, spool);
    let body: Uint8Array | ReadableStream<Uint8Array>;
    let info: MediaInfo;
    let sha256 = originalSha;
    let size = originalSize;
    let contentType = type.mime;
    let extension = type.extension;
    let compressed = false;
    if (type.mediaType === 'image') {
      const bytes = await Bun.file(spool).bytes();
      info = await validateFileIntegrity(bytes, type.mime);
      body = bytes;
      if (ctx.compress ?? true) {
        const result = await compressImage(bytes, { quality: ctx.quality ?? 85 });
        if (result.compressed) {
          body = result.data;
          contentType = result.contentType;
          size = result.data.byteLength;
          sha256 = sha256Hex(result.data);
          extension = supportedTypeForMime(contentType)?.extension ?? type.extension;
          compressed = true;
        }
      }
    } else {
      info = await validateFileIntegrity(Bun.file(spool), type.mime);
      body = Bun.file(spool).stream();
    }

    const uid = ctx.recordUid ?? newUid();
    const { contentType: _c, mediaType: _m, size: _s, ...details } = info;
    // Same owner, same content: one at a time in this process, so concurrent copies in a batch dedupe too.
    const { storageKey, objectUrl, duplicate } = await withKeyLock(`${ctx.userId ?? ''}:${sha256}`, async () => {
      const duplicate = await findDuplicate(ctx, sha256);
      let storageKey: string;
      let objectUrl: string;
      if (duplicate?.storageKey) {
        if (body instanceof ReadableStream) await body.cancel().catch(() => {});
        storageKey = duplicate.storageKey;
        objectUrl = duplicate.fileUrl ?? duplicate.storageKey;
      } else {
        storageKey = `${type.mediaType}/${uid}${extension}`;
        const put = await ctx.store.put(storageKey, body, {
          contentType,
          metadata: {
            record_uid: uid,
            media_type: type.mediaType,
            source: 'url',
            sha256,
            ...(ctx.userId ? { user_id: ctx.userId } : {}),
            ...(ctx.generationId ? { generation_id: ctx.generationId } : {}),
          },
          ...(ctx.signal ? { signal: ctx.signal } : {}),
        });
        objectUrl = put.url;
      }

      const sourceUrl = withoutCredentials(url);
      await ctx.db
        .insert(records)
        .values({
          uid,
          mediaType: type.mediaType,
          status: 'uploaded',
          fileUrl: objectUrl,
          fileName: storageKey.slice(storageKey.lastIndexOf('/') + 1),
          fileSize: size,
          contentType,
          sha256,
          storageKey,
          source: 'url',
          sourceUrl,
          userId: ctx.userId ?? null,
          generationId: ctx.generationId ?? null,
          metadata: {
            media: details,
            original: { size: originalSize, sha256: originalSha, contentType: type.mime },
            ...(detection.mismatch ? { mismatch: detection.mismatch } : {}),
            ...(duplicate ? { duplicate_of: duplicate.uid } : {}),
          },
        })
        .onConflictDoNothing({ target: records.uid });
      return { storageKey, objectUrl, duplicate };
    });
    return {
      recordUid: uid,
      sourceUrl: safeUrl(url),
      storageKey,
      objectUrl,
      contentType,
      mediaType: type.mediaType,
      size,
      originalSize,
      sha256,
      compressed,
      info: details,
      ...(duplicate ? { duplicateOf: duplicate.uid } : {}),
    };
  } finally {
    await rm(spool, { force: true });
  }
}

export interface BatchOptions extends Omit<IngestContext, 'signal'> {
  urls: readonly string[];
  /** URLs processed at once. Default 3. */
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
  const failed: { index: number; url: string; error: string; code: string }[] = [];
  let next = 0;
  let completed = 0;
  // Items are processed in order of index; duplicates within one batch are caught because each URL's record is
  // written before the next one with the same content looks for it (per-owner dedupe is by committed records).
  const worker = async () => {
    while (next < urls.length) {
      const index = next++;
      const url = urls[index] as string;
      let ok = false;
      try {
        if (ctx.signal?.aborted) throw new FileProcessingError('cancelled before it started', 'CANCELLED');
        processed[index] = await processUrl(url, ctx);
        ok = true;
      } catch (error) {
        const code = error instanceof FileProcessingError ? error.code : 'ERROR';
        failed.push({ index, url: safeUrl(url), error: (error as Error).message, code });
      }
      completed += 1;
      onProgress?.(completed, urls.length, url, ok);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(maxConcurrent, urls.length)) }, worker));
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

const keyLocks = new Map<string, Promise<unknown>>();

/** Runs `fn` after every earlier call with the same key has finished (an in-process mutex per key). */
async function withKeyLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = keyLocks.get(key) ?? Promise.resolve();
  const run = previous.catch(() => {}).then(fn);
  keyLocks.set(key, run);
  try {
    return await run;
  } finally {
    if (keyLocks.get(key) === run) keyLocks.delete(key);
  }
}

/** A record already made for this uid (an earlier run of the same queue item), as the result it returned. */
async function existingResult(ctx: IngestContext, uid: string): Promise<FileMetadata | undefined> {
  const [record] = await ctx.db.select().from(records).where(eq(records.uid, uid));
  if (!record?.storageKey || !record.sha256 || !record.contentType) return undefined;
  const metadata = record.metadata as {
    media?: FileMetadata['info'];
    original?: { size?: number };
    duplicate_of?: string;
  };
  return {
    recordUid: record.uid,
    sourceUrl: safeUrl(record.sourceUrl ?? ''),
    storageKey: record.storageKey,
    objectUrl: record.fileUrl ?? record.storageKey,
    contentType: record.contentType,
    mediaType: record.mediaType,
    size: record.fileSize ?? 0,
    originalSize: metadata.original?.size ?? record.fileSize ?? 0,
    sha256: record.sha256,
    compressed: (metadata.original?.size ?? record.fileSize) !== record.fileSize,
    info: metadata.media ?? {},
    ...(metadata.duplicate_of ? { duplicateOf: metadata.duplicate_of } : {}),
  };
}

async function findDuplicate(ctx: IngestContext, sha256: string) {
  const owner = ctx.userId ? eq(records.userId, ctx.userId) : undefined;
  const [existing] = await ctx.db
    .select({ uid: records.uid, storageKey: records.storageKey, fileUrl: records.fileUrl, userId: records.userId })
    .from(records)
    .where(and(eq(records.sha256, sha256), isNotNull(records.storageKey), owner))
    .limit(1);
  if (!existing) return undefined;
  // Without an owner, only ownerless records are deduplicated against.
  if (!ctx.userId && existing.userId) return undefined;
  return existing;
}

async function spoolToFile(
  stream: ReadableStream<Uint8Array>,
  path: string,
): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  const handle = await open(path, 'wx', 0o600);
  let size = 0;
  try {
    for await (const chunk of stream) {
      hash.update(chunk);
      size += chunk.byteLength;
      for (let offset = 0; offset < chunk.byteLength; ) {
        offset += (await handle.write(chunk, offset)).bytesWritten;
      }
    }
  } finally {
    await handle.close();
  }
  return { sha256: hash.digest('hex'), size };
}
