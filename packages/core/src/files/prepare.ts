/**
 * The pipeline's prepare step, whatever the source (URL, upload, generation): detect by content → refuse unsupported
 * → spool while hashing (size-capped) → validate integrity → compress images. Memory stays flat whatever the size: the body is spooled to a temporary file,
 * validation reads it through a bounded window and the store reads it as a stream. Images (bounded by the pixel
 * and size caps) are read into memory for decoding and recompression.
 */
import { type FileHandle, mkdir, open, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { FileProcessingError, FileSizeExceededError, FileTypeNotSupportedError } from '../errors.ts';
import { compressImage } from '../media/compress.ts';
import { type Detection, detectFileType } from '../media/detect.ts';
import { type SupportedType, supportedTypeForMime } from '../media/supported.ts';
import type { MediaInfo } from '../media/validate/media-info.ts';
import { validateFileIntegrity } from '../media/validate/validate.ts';
import { collectGarbageEvery, releaseChunk, releasedBytes } from '../memory.ts';
import { newUid } from '../uid.ts';
import { crashPoint } from './crash-points.ts';
import { sha256Hex } from './file-store.ts';
import { type SpoolHash, spoolHasher } from './spool-hash.ts';
import { type AllowedTypes, checkAllowedType } from './type-filter.ts';

export interface PrepareOptions {
  /** Directory for the spool (`<home>/tmp`). */
  home: string;
  /** Where the bytes came from, compared with the content. */
  url?: string;
  /** What the sender claimed, compared with the content. */
  declaredType?: string;
  /** Refuse bodies larger than this while they stream in. */
  maxSize?: number;
  /** Recompress images (default true) at this quality (default 85). */
  compress?: boolean;
  quality?: number;
  /** What to name in an unsupported-type error, e.g. `(from https://…)`. */
  hint?: string;
  /** The request's own type filter (see type-filter.ts), checked before anything is spooled. */
  allowedTypes?: AllowedTypes;
  /** Whose file this is (user id): waiting image decodes are served round-robin by owner. */
  owner?: string;
  /**
   * The spool will be stored as it is by a store that syncs it (the local disk's `putFile`): its writeback is started
   * while the body still streams in, so that final fsync finds little left instead of the whole file.
   */
  syncWhileSpooling?: boolean;
  /**
   * The stream's chunks are this pipeline's alone (a socket's, a request body's, a file's), so each is freed as soon
   * as it is written (`releaseChunk`) instead of waiting for a forced collection. Never for a stream over bytes the
   * caller still holds.
   */
  ownsChunks?: boolean;
}

/** A verified file, spooled and ready to store. */
export interface PreparedFile {
  type: SupportedType;
  /** The bytes to store (a recompressed image in memory, otherwise the spool as a fresh stream). */
  body(): Uint8Array | ReadableStream<Uint8Array>;
  contentType: string;
  extension: string;
  size: number;
  sha256: string;
  originalSize: number;
  originalSha256: string;
  compressed: boolean;
  /** Integrity metadata (dimensions, duration, codec…). */
  details: Omit<MediaInfo, 'contentType' | 'mediaType' | 'size'>;
  mismatch?: Detection['mismatch'];
  /**
   * The spooled bytes on disk, when the body is exactly the spool (a store may take it over; `sha256` is theirs).
   * A store that moved the file away sets `taken`, and the spool is then not removed again.
   */
  spool?: { path: string; taken?: boolean };
}

/** What detection calls a body of no bytes. */
const EMPTY_TYPE = 'application/x-empty';

/** A file of no bytes, from any source: nothing to store (400 INVALID_SIZE). */
export function emptyFileError(): FileProcessingError {
  return new FileProcessingError('The file is empty (0 bytes): there is nothing to store.', 'INVALID_SIZE');
}

/** Verifies a stream and hands the prepared file to `fn`; the spool is removed whatever happens. */
export async function withPreparedFile<T>(
  input: ReadableStream<Uint8Array>,
  options: PrepareOptions,
  fn: (file: PreparedFile) => Promise<T>,
): Promise<T> {
  const detection = await detectFileType(input, {
    ...(options.url ? { url: options.url } : {}),
    ...(options.declaredType ? { declaredType: options.declaredType } : {}),
  });
  if (!detection.isValid || !detection.type) {
    await detection.stream.cancel().catch(() => {});
    // Nothing arrived: said the same way whether the sender declared a length of 0 or sent an empty chunked body.
    if (detection.contentType === EMPTY_TYPE) throw emptyFileError();
    throw new FileTypeNotSupportedError(detection.contentType, options.hint ?? '');
  }
  const type = detection.type;
  try {
    checkAllowedType(type, options.allowedTypes);
  } catch (error) {
    await detection.stream.cancel().catch(() => {});
    throw error;
  }
  const spool = join(options.home, 'tmp', `spool-${newUid()}`);
  const handOver: NonNullable<PreparedFile['spool']> = { path: spool };
  let original: Spooled | undefined;
  try {
    // A video is always spooled: its thumbnail is read by ffmpeg, from a file.
    original = await spoolToFile(detection.stream, spool, options, type.mediaType !== 'video');
    const { inMemory } = original;
    let file: PreparedFile;
    if (type.mediaType === 'image') {
      const bytes = inMemory ?? (await Bun.file(spool).bytes());
      const owner = options.owner === undefined ? {} : { owner: options.owner };
      const info = await validateFileIntegrity(bytes, type.mime, owner);
      file = prepared(type, info, original, () => bytes);
      if (options.compress ?? true) {
        const result = await compressImage(bytes, { quality: options.quality ?? 85, ...owner });
        if (result.compressed) {
          file = {
            ...file,
            body: () => result.data,
            contentType: result.contentType,
            extension: supportedTypeForMime(result.contentType)?.extension ?? type.extension,
            size: result.data.byteLength,
            sha256: sha256Hex(result.data),
            compressed: true,
          };
        }
      }
    } else if (inMemory) {
      file = prepared(type, await validateFileIntegrity(inMemory, type.mime), original, () => inMemory);
    } else {
      const info = await validateFileIntegrity(Bun.file(spool), type.mime);
      file = {
        ...prepared(type, info, original, () => Bun.file(spool).stream()),
        spool: handOver,
      };
    }
    return await fn(detection.mismatch ? { ...file, mismatch: detection.mismatch } : file);
  } finally {
    // A body kept in memory made no spool; a failed spooling (its size cap, a dropped body) may have made one.
    if (!handOver.taken && !original?.inMemory) await rm(spool, { force: true });
  }
}

interface Spooled {
  sha256: string;
  size: number;
  /** The whole body, when it ended before one spool write's worth arrived: no spool file was made for it. */
  inMemory?: Uint8Array;
}

function prepared(
  type: SupportedType,
  info: MediaInfo,
  original: { sha256: string; size: number },
  body: PreparedFile['body'],
): PreparedFile {
  const { contentType: _c, mediaType: _m, size: _s, ...details } = info;
  return {
    type,
    body,
    contentType: type.mime,
    extension: type.extension,
    size: original.size,
    sha256: original.sha256,
    originalSize: original.size,
    originalSha256: original.sha256,
    compressed: false,
    details,
  };
}

/** Bytes gathered before one `writev`: fewer, larger writes to the spool than one per socket chunk (16–64 KiB). */
const SPOOL_WRITE_BYTES = 1024 * 1024;

/**
 * What has arrived is written at least this often, however little it is, so a body trickling in keeps its spool's
 * mtime recent: the spool sweep (`sweepSpool`, 2 × the task timeout) takes files by age, and a slow upload that
 * had not filled one write in that time lost its spool under it (a 500 at the end).
 */
export const SPOOL_TOUCH_MS = 60_000;

/**
 * With `syncWhileSpooling`, an `fdatasync` is started each time this many bytes were written since the last one
 * began (at most one in flight, never awaited by the writes): the disk writes the file back while the network
 * delivers the rest. Without it, a machine with much memory keeps a whole large file dirty until the final fsync,
 * which then writes all of it after the download ended (8 × 256 MiB: ~5 s of a 12 s ingest here).
 */
const SYNC_EVERY_BYTES = 32 * 1024 * 1024;

/**
 * Background syncs in flight in this process, across every spool. Each holds one of the runtime's few file-system
 * threads for as long as the disk takes; with one per spool, eight large downloads could hold them all and queue every
 * other file operation (the spools' own writes included) behind their writeback.
 */
const MAX_BACKGROUND_SYNCS = 1;
let backgroundSyncs = 0;

/**
 * Spools the body, hashing it. A body that ends before one spool write's worth (1 MiB) arrived is kept in memory
 * instead, and no file is made: a small file would otherwise pay a create, a write, validation's and the store's
 * reads and an unlink (a dozen file-system calls) for bytes already in memory. Memory is unchanged: those bytes were
 * held until that first write anyway.
 */
async function spoolToFile(
  stream: ReadableStream<Uint8Array>,
  path: string,
  { maxSize = Number.POSITIVE_INFINITY, syncWhileSpooling = false, ownsChunks = false }: PrepareOptions,
  mayKeepInMemory: boolean,
): Promise<Spooled> {
  // One hash, the record's identity; stores reuse it (the local ETag) instead of hashing the bytes again. A body that
  // fits in one write is hashed here; a larger one by the hashing thread, which reads the spool behind the writes.
  let hash: Bun.CryptoHasher | undefined;
  let follower: SpoolHash | undefined;
  let handle: FileHandle | undefined;
  const create = () =>
    open(path, 'wx', 0o600).catch(async (error: NodeJS.ErrnoException) => {
      // The spool directory is made the first time it is missing, not before every file.
      if (error.code !== 'ENOENT') throw error;
      await mkdir(dirname(path), { recursive: true });
      return open(path, 'wx', 0o600);
    });
  let size = 0;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let unsynced = 0;
  let syncing: Promise<unknown> | undefined;
  let writtenAt = Date.now();
  // Called only between reads, with every chunk read so far pending: once written, the spool holds `size` bytes.
  const flush = async (last: boolean) => {
    handle ??= await create();
    const spool = handle;
    const chunks = pending;
    unsynced += pendingBytes;
    pending = [];
    pendingBytes = 0;
    if (!hash && !follower) {
      follower = last ? undefined : await spoolHasher.follow(path);
      if (!follower) hash = new Bun.CryptoHasher('sha256');
    }
    if (hash) for (const chunk of chunks) hash.update(chunk);
    await writeAll(spool, chunks);
    writtenAt = Date.now();
    // Written and hashed (or readable by the hashing thread): nothing reads these bytes from memory again.
    for (const chunk of chunks) {
      const bytes = chunk.byteLength;
      if (ownsChunks && releaseChunk(chunk)) releasedBytes(bytes);
      else collectGarbageEvery(bytes);
    }
    follower?.grown(size);
    crashPoint('during-spool');
    if (syncWhileSpooling && !syncing && unsynced >= SYNC_EVERY_BYTES && backgroundSyncs < MAX_BACKGROUND_SYNCS) {
      unsynced = 0;
      backgroundSyncs += 1;
      // Its failure is not lost: it is awaited (and thrown) before the spool is closed.
      const started: Promise<unknown> = spool
        .datasync()
        .then(
          () => {
            if (syncing === started) syncing = undefined;
          },
          (error: unknown) => ({ failed: error }),
        )
        .finally(() => {
          backgroundSyncs -= 1;
        });
      syncing = started;
    }
  };
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value: chunk } = await reader.read();
      if (done) break;
      size += chunk.byteLength;
      if (size > maxSize) throw new FileSizeExceededError(maxSize, size);
      pending.push(chunk);
      pendingBytes += chunk.byteLength;
      if (pendingBytes >= SPOOL_WRITE_BYTES || Date.now() - writtenAt >= SPOOL_TOUCH_MS) await flush(false);
    }
    if (!handle && mayKeepInMemory) {
      const inMemory = pending.length === 1 ? (pending[0] as Uint8Array) : Buffer.concat(pending, pendingBytes);
      crashPoint('during-spool');
      return { sha256: new Bun.CryptoHasher('sha256').update(inMemory).digest('hex'), size, inMemory };
    }
    await flush(true);
    const synced = (await syncing) as { failed?: unknown } | undefined;
    if (synced?.failed) throw synced.failed;
    const sha256 = follower ? await follower.digest(size) : (hash as Bun.CryptoHasher).digest('hex');
    return { sha256, size };
  } catch (error) {
    await reader.cancel().catch(() => {});
    throw error;
  } finally {
    follower?.close();
    reader.releaseLock();
    await syncing;
    await handle?.close();
  }
}

/** Writes every chunk, in order, with as few system calls as the kernel allows (a short `writev` is resumed). */
async function writeAll(handle: FileHandle, chunks: Uint8Array[]): Promise<void> {
  let rest = chunks;
  while (rest.length > 0) {
    let written = (await handle.writev(rest)).bytesWritten;
    while (rest.length > 0 && written >= (rest[0] as Uint8Array).byteLength) {
      written -= (rest[0] as Uint8Array).byteLength;
      rest = rest.slice(1);
    }
    if (written > 0) rest = [(rest[0] as Uint8Array).subarray(written), ...rest.slice(1)];
  }
}
