/**
 * Local-disk driver (`file://path`): atomic writes (temp file, fsync, rename), metadata in a sidecar beside
 * each object, keys confined to the root directory.
 */
import { closeSync, constants, type Stats } from 'node:fs';
import { copyFile, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { collectGarbageEvery, isTransientSystemCode } from '@mediaforge/core';
import { StorageAbortedError, StorageError } from '../errors.ts';
import { validateKey } from '../keys.ts';
import { validateMetadata } from '../metadata.ts';
import type {
  Body,
  ByteRange,
  GetResult,
  ListPage,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  PutResult,
} from '../object-store.ts';
import { byteWindow, openFile, streamFile } from './file-read.ts';
import { sweepTemporaryFiles, tempOf } from './file-temp.ts';
import { walk } from './file-walk.ts';

export const DRIVER_NAME = 'file';
const SIDECAR_SUFFIX = '.mfmeta';

export interface FileStoreOptions {
  /** Directory that holds the objects; created when missing. */
  root: string;
}

interface Sidecar {
  contentType: string;
  metadata: Record<string, string>;
  etag: string;
  cacheControl?: string;
}

export function createFileStore({ root }: FileStoreOptions): ObjectStore {
  const base = resolve(root);

  const pathOf = (key: string) => {
    const path = resolve(base, validateKey(DRIVER_NAME, key));
    if (path !== base && !path.startsWith(base + sep)) {
      throw new StorageError(DRIVER_NAME, 'STORAGE_INVALID_KEY', `key ${JSON.stringify(key)} escapes the store root`);
    }
    return path;
  };
  const sidecarOf = (path: string) => join(dirname(path), `.${path.slice(dirname(path).length + 1)}${SIDECAR_SUFFIX}`);

  async function readSidecar(path: string): Promise<Sidecar | undefined> {
    try {
      return JSON.parse(await readFile(sidecarOf(path), 'utf8')) as Sidecar;
    } catch {
      return undefined;
    }
  }

  async function info(key: string): Promise<ObjectInfo | null> {
    const path = pathOf(key);
    let stats: Awaited<ReturnType<typeof stat>>;
    try {
      stats = await stat(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR')
        return null;
      throw wrap(error, `cannot read ${key}`);
    }
    return stats.isFile() ? describe(key, path, stats) : null;
  }

  /** An object's info: its size and date from `stats`, the rest from its sidecar. */
  async function describe(key: string, path: string, stats: Stats): Promise<ObjectInfo> {
    const sidecar = await readSidecar(path);
    return {
      key,
      size: stats.size,
      contentType: sidecar?.contentType ?? 'application/octet-stream',
      metadata: sidecar?.metadata ?? {},
      etag: sidecar?.etag ?? `"${stats.size.toString(16)}-${stats.mtimeMs.toString(16)}"`,
      lastModified: stats.mtime,
      ...(sidecar?.cacheControl ? { cacheControl: sidecar.cacheControl } : {}),
    };
  }

  /**
   * Runs `fn`, which creates something in `path`'s directory, making the directory only when `fn` finds it missing:
   * every object of a media type shares a directory, so a `mkdir` before each write is a wasted system call.
   */
  async function inDirectory<T>(path: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      await mkdir(dirname(path), { recursive: true });
      return fn();
    }
  }

  /**
   * Writes a sidecar (bytes in memory) to a temp file, synced, then renames it into place: created, written, synced
   * and closed in one call (one trip to the file-system threads instead of four). The temp file is removed on failure.
   */
  async function writeSidecar(path: string, bytes: Uint8Array): Promise<void> {
    const temp = tempOf(path);
    try {
      await inDirectory(path, () => writeFile(temp, bytes, { flag: 'wx', mode: 0o644, flush: true }));
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true }).catch(() => {});
      throw error;
    }
  }

  /** Streams a body to a temp file, fsyncs and renames it into place; the temp file is removed on any failure. */
  async function writeAtomically(
    path: string,
    body: ReadableStream<Uint8Array>,
    signal?: AbortSignal,
  ): Promise<{ size: number; sha256: string }> {
    const temp = tempOf(path);
    const create = () => open(temp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o644);
    const handle = await inDirectory(path, create);
    // SHA-256 for the ETag: the pipeline's identity hash (so `putFile` is handed it), and faster than MD5 on CPUs with
    // SHA extensions.
    const hasher = new Bun.CryptoHasher('sha256');
    let size = 0;
    try {
      const write = async (chunk: Uint8Array) => {
        if (signal?.aborted) throw signal.reason ?? new Error('aborted');
        hasher.update(chunk);
        size += chunk.byteLength;
        collectGarbageEvery(chunk.byteLength);
        for (let offset = 0; offset < chunk.byteLength; ) {
          const { bytesWritten } = await handle.write(chunk, offset);
          offset += bytesWritten;
        }
      };
      for await (const chunk of body) await write(chunk);
      if (signal?.aborted) throw signal.reason ?? new Error('aborted');
      await handle.sync();
      await handle.close();
      await rename(temp, path);
    } catch (error) {
      await handle.close().catch(() => {});
      await rm(temp, { force: true }).catch(() => {});
      if (body instanceof ReadableStream) await body.cancel().catch(() => {});
      throw error;
    }
    return { size, sha256: hasher.digest('hex') };
  }

  /** The sidecar (content type, metadata, ETag) of an object. */
  function sidecarBytes(written: { sha256: string }, options: PutOptions): Uint8Array {
    const sidecar: Sidecar = {
      contentType: options.contentType,
      metadata: options.metadata ?? {},
      etag: `"${written.sha256}"`,
      ...(options.cacheControl ? { cacheControl: options.cacheControl } : {}),
    };
    return new TextEncoder().encode(JSON.stringify(sidecar));
  }

  /** Writes the sidecar of an object just put in place. */
  async function finishPut(
    key: string,
    path: string,
    written: { size: number; sha256: string },
    options: PutOptions,
  ): Promise<PutResult> {
    await writeSidecar(sidecarOf(path), sidecarBytes(written, options));
    return putResult(key, path, written);
  }

  /**
   * Bytes in memory: the object and its sidecar are written and synced at once (as `putFile` does), and the object is
   * renamed into place only once both are durable.
   */
  async function putBytes(key: string, path: string, body: Uint8Array, options: PutOptions): Promise<PutResult> {
    const written = { size: body.byteLength, sha256: new Bun.CryptoHasher('sha256').update(body).digest('hex') };
    const temp = tempOf(path);
    try {
      await inDirectory(path, () =>
        Promise.all([
          writeFile(temp, body, { flag: 'wx', mode: 0o644, flush: true }),
          writeSidecar(sidecarOf(path), sidecarBytes(written, options)),
        ]),
      );
      if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true }).catch(() => {});
      await rm(sidecarOf(path), { force: true }).catch(() => {});
      throw error;
    }
    return putResult(key, path, written);
  }

  function putResult(key: string, path: string, written: { size: number; sha256: string }): PutResult {
    return { key, size: written.size, etag: `"${written.sha256}"`, url: pathToFileURL(path).toString() };
  }

  return {
    driver: DRIVER_NAME,
    putFileAdopts: true,

    sweepTemporary: (olderThanMs: number) => sweepTemporaryFiles(base, olderThanMs),

    async put(key: string, body: Body, options: PutOptions): Promise<PutResult> {
      const path = pathOf(key);
      validateMetadata(DRIVER_NAME, options.metadata);
      if (options.signal?.aborted) throw new StorageAbortedError(DRIVER_NAME, key, options.signal.reason);
      let written: { size: number; sha256: string };
      try {
        if (body instanceof Uint8Array) return await putBytes(key, path, body, options);
        written = await writeAtomically(path, body, options.signal);
      } catch (error) {
        if (options.signal?.aborted) throw new StorageAbortedError(DRIVER_NAME, key, error);
        throw wrap(error, `cannot write ${key}`);
      }
      return finishPut(key, path, written, options);
    },

    /**
     * Takes the caller's file over: renamed into place when it is on the same filesystem (no byte is copied), else
     * copied by the kernel. Synced before it becomes visible, like `put`.
     */
    async putFile(
      key: string,
      source: string,
      options: PutOptions & { size: number; sha256: string },
    ): Promise<PutResult> {
      const path = pathOf(key);
      validateMetadata(DRIVER_NAME, options.metadata);
      if (options.signal?.aborted) throw new StorageAbortedError(DRIVER_NAME, key, options.signal.reason);
      const written = { size: options.size, sha256: options.sha256 };
      // The object and its sidecar are synced at once (the two fsyncs overlap, one journal commit for both), and the
      // object becomes visible only after both are durable. The caller's file is private (a spool): it is made
      // readable and synced where it lies, then renamed into place; the key is reserved, so nothing else is there.
      let taken = source;
      try {
        await inDirectory(path, async () => {
          const handle = await open(source, 'r').catch(async (error: NodeJS.ErrnoException) => {
            if (error.code !== 'ENOENT') throw error;
            throw Object.assign(new Error(`cannot read ${source}`), { code: 'ESOURCE', cause: error });
          });
          try {
            await handle.chmod(0o644);
            await Promise.all([handle.sync(), writeSidecar(sidecarOf(path), sidecarBytes(written, options))]);
          } finally {
            await handle.close();
          }
          await rename(source, path).catch(async (error: NodeJS.ErrnoException) => {
            if (error.code !== 'EXDEV') throw error;
            // Another filesystem: copied next to the object, synced, then renamed into place.
            taken = tempOf(path);
            await copyFile(source, taken);
            const copy = await open(taken, 'r');
            try {
              await copy.sync();
            } finally {
              await copy.close();
            }
            await rename(taken, path);
            // Handed over: the caller does not remove the file it gave (see `putFile` in object-store.ts).
            await rm(source, { force: true });
          });
        });
      } catch (error) {
        // The cleanup must not mask the write's own (typed) failure.
        if (taken !== source) await rm(taken, { force: true }).catch(() => {});
        await rm(sidecarOf(path), { force: true }).catch(() => {});
        throw wrap(error, `cannot write ${key}`);
      }
      return putResult(key, path, written);
    },

    /**
     * The file is opened before this returns (see file-read.ts): a key replaced or deleted afterwards still streams the
     * bytes that were found, and one already gone is `null`.
     */
    async get(key: string, options: { range?: ByteRange } = {}): Promise<GetResult | null> {
      const path = pathOf(key);
      const opened = await openFile(path).catch((error: unknown) => {
        throw wrap(error, `cannot read ${key}`);
      });
      if (!opened) return null;
      const { fd, stats } = opened;
      try {
        // The sidecar is read after the open: one deleted in between leaves the defaults, never another file's bytes.
        const found = await describe(key, path, stats);
        const window = byteWindow(stats.size, options.range);
        if (!window) {
          const { range } = options;
          throw new StorageError(
            DRIVER_NAME,
            'STORAGE_ERROR',
            `range ${range?.start}-${range?.end ?? ''} is outside ${key} (${stats.size} bytes)`,
          );
        }
        return { body: streamFile(fd, window.start, window.length), info: found, length: window.length };
      } catch (error) {
        closeSync(fd);
        throw error;
      }
    },

    head: info,

    async delete(key: string): Promise<void> {
      const path = pathOf(key);
      await rm(path, { force: true });
      await rm(sidecarOf(path), { force: true });
    },

    async list(prefix: string, options = {}): Promise<ListPage> {
      const limit = Math.min(Math.max(options.limit ?? 1000, 1), 1000);
      const keys = (await walk(base))
        .filter((key) => key.startsWith(prefix) && (!options.cursor || key > options.cursor))
        .sort();
      const page = keys.slice(0, limit);
      const items = await Promise.all(
        page.map(async (key) => {
          const stats = await stat(join(base, key));
          return { key, size: stats.size, lastModified: stats.mtime };
        }),
      );
      return keys.length > limit ? { items, nextCursor: page.at(-1) } : { items };
    },

    async url(key: string): Promise<string> {
      return pathToFileURL(pathOf(key)).toString();
    },

    objectUrl(key: string): string {
      return pathToFileURL(pathOf(key)).toString();
    },

    async copy(fromKey: string, toKey: string): Promise<void> {
      const from = pathOf(fromKey);
      const to = pathOf(toKey);
      if (!(await info(fromKey)))
        throw new StorageError(DRIVER_NAME, 'STORAGE_NOT_FOUND', `cannot copy ${fromKey}: no such object`);
      await mkdir(dirname(to), { recursive: true });
      const temp = tempOf(to);
      try {
        await copyFile(from, temp);
        const sidecar = await readFile(sidecarOf(from)).catch(() => undefined);
        if (sidecar) await writeSidecar(sidecarOf(to), sidecar);
        await rename(temp, to);
      } catch (error) {
        await rm(temp, { force: true }).catch(() => {});
        throw wrap(error, `cannot copy ${fromKey} to ${toKey}`);
      }
    },
  };
}

function wrap(error: unknown, what: string): StorageError {
  if (error instanceof StorageError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const mapped =
    code === 'EACCES' || code === 'EPERM'
      ? 'STORAGE_ACCESS_DENIED'
      : code === 'ENOSPC' || code === 'EFBIG'
        ? 'STORAGE_TOO_LARGE'
        : isTransientSystemCode(code)
          ? 'STORAGE_TRANSIENT'
          : 'STORAGE_ERROR';
  return new StorageError(DRIVER_NAME, mapped, `${what}: ${(error as Error).message}`, { cause: error });
}
