/**
 * Bounded memory for long streams. Body chunks from sockets and files are allocated outside the JavaScript heap and
 * the runtime does not count them as GC pressure, so gigabytes streaming through JS pile up garbage (a 1 GiB ingest
 * peaked at ~151 MiB, a 1 GiB upload at ~400 MiB).
 *
 * A chunk the pipeline was the last to use, and that owns its whole buffer, is freed at once with `releaseChunk`
 * (decision 0049): its buffer is detached, which hands the memory back without a collection. Only bytes that could
 * not be released that way count towards a full collection every 32 MiB (`collectGarbageEvery`). The forced
 * collections had cost ~1.3 s of the event loop per GiB uploaded through `serve`, more than the upload itself.
 *
 * Except beside the embedded database (`countReleasedBytes`): PGlite's compiled WebAssembly makes the heap large, and
 * the runtime's own collections then come late. A 1 GiB ingest on PGlite peaked at 281–309 MiB with released chunks
 * uncounted (eden collections every 8–32 MiB of them: 236–253 MiB), 213 MiB with them counted (decision 0051).
 */
const GC_EVERY_BYTES = 32 * 1024 * 1024;
let bytesSinceGc = 0;
let countReleased = false;

/** From now on in this process, released chunks count towards the forced collection too (the embedded database). */
export function countReleasedBytes(): void {
  countReleased = true;
}

/** Call with the size of each chunk `releaseChunk` freed. */
export function releasedBytes(bytes: number): void {
  if (countReleased) collectGarbageEvery(bytes);
}

/** Bytes counted since the last forced collection (for tests). */
export function bytesTowardsCollection(): number {
  return bytesSinceGc;
}

/** Call with the size of each chunk that streamed through and was not released. */
export function collectGarbageEvery(bytes: number): void {
  bytesSinceGc += bytes;
  if (bytesSinceGc < GC_EVERY_BYTES) return;
  bytesSinceGc = 0;
  Bun.gc(true);
}

interface Detachable {
  transfer(newLength?: number): ArrayBuffer;
  readonly detached: boolean;
}

/**
 * Frees `chunk`'s memory now, when it is a view of its whole buffer (not a slice of something larger that others may
 * still read). Afterwards the chunk reads as empty: call it only where nothing else holds the chunk, as the spool
 * does once the bytes are written. Returns whether it was released; the caller counts the rest with
 * `collectGarbageEvery`.
 */
export function releaseChunk(chunk: Uint8Array): boolean {
  const buffer = chunk.buffer as ArrayBuffer & Partial<Detachable>;
  if (!(buffer instanceof ArrayBuffer) || typeof buffer.transfer !== 'function' || buffer.detached) return false;
  if (chunk.byteOffset !== 0 || chunk.byteLength !== buffer.byteLength) return false;
  buffer.transfer(0);
  return true;
}
