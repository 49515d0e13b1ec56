/**
 * Reads for the local-disk driver through a descriptor opened before the object is answered: the bytes served are those
 * of the file that was opened, even when its key is replaced or deleted while they are sent, and an object that is gone
 * is `null` at lookup time rather than an ENOENT once a response has started (Bun opens `Bun.file(path)` lazily).
 */
import { close, closeSync, fstat, open, type Stats } from 'node:fs';
import { promisify } from 'node:util';
import type { ByteRange } from '../object-store.ts';

const openFd = promisify(open);
const fstatFd = promisify(fstat);
const closeFd = promisify(close);

/** The `code` of the process warning for a stream dropped unread. */
export const DROPPED_STREAM_WARNING = 'MEDIAFORGE_STREAM_DROPPED';

/**
 * A stream dropped without being read to its end or cancelled would hold its descriptor for the life of the process:
 * once the stream is collected the descriptor is closed, with a warning, as dropping one is a bug in its reader (Bun
 * cancels the body of a response it does not send). Raw descriptors, not `FileHandle`s: Bun throws an uncaught error
 * when it collects a `FileHandle` left open.
 */
const dropped = new FinalizationRegistry<number>((fd) => {
  try {
    closeSync(fd);
  } catch {}
  process.emitWarning(`A stored object's stream was dropped unread; its descriptor ${fd} was closed when collected.`, {
    code: DROPPED_STREAM_WARNING,
  });
});

export interface OpenedFile {
  fd: number;
  /** Taken through the descriptor: the size of the bytes that will be read. */
  stats: Stats;
}

/** The regular file at `path` opened for reading, or `null` when there is none. The caller closes `fd`. */
export async function openFile(path: string): Promise<OpenedFile | null> {
  let fd: number;
  try {
    fd = await openFd(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw error;
  }
  try {
    const stats = await fstatFd(fd);
    if (stats.isFile()) return { fd, stats };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  closeSync(fd);
  return null;
}

/** Where a read of `size` bytes starts and how long it is; `undefined` when the range lies outside the file. */
export function byteWindow(size: number, range?: ByteRange): { start: number; length: number } | undefined {
  if (!range) return { start: 0, length: size };
  const end = Math.min(range.end ?? size - 1, size - 1);
  if (range.start < 0 || range.start > end) return undefined;
  return { start: range.start, length: end + 1 - range.start };
}

/**
 * `length` bytes of the open file `fd` from `start`, as a stream that owns the descriptor: closed once the stream ends,
 * fails or is cancelled (a client that disconnects mid-download). Read by Bun's native file reader, as fast as
 * `Bun.file(path).stream()`; it reads through a duplicate of the descriptor that it closes itself, and leaves `fd` open.
 */
export function streamFile(fd: number, start: number, length: number): ReadableStream<Uint8Array> {
  const token = {};
  // Made on the first pull: Bun duplicates the descriptor as soon as its stream is read from, and a stream dropped
  // unread should hold nothing but `fd`, which `dropped` closes.
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let open = true;
  let reading: Promise<unknown> = Promise.resolve();
  const release = async () => {
    if (!open) return;
    open = false;
    dropped.unregister(token);
    await closeFd(fd);
  };
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        reader ??= Bun.file(fd)
          .slice(start, start + length)
          .stream()
          .getReader();
        const next = reader.read();
        reading = next.catch(() => {});
        const chunk = await next.catch(async (error: unknown) => {
          await release();
          throw error;
        });
        if (chunk.done) {
          await release();
          controller.close();
        } else controller.enqueue(chunk.value);
      },
      async cancel(reason) {
        try {
          await reader?.cancel(reason);
        } finally {
          // A read in flight settles first: `fd` is never closed under a read that might use it.
          await reading;
          await release();
        }
      },
    },
    { highWaterMark: 0 },
  );
  dropped.register(stream, fd, token);
  return stream;
}
