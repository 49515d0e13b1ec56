/**
 * Bounded memory for long streams. Body chunks from sockets and files are allocated outside the JavaScript heap and
 * the runtime does not count them as GC pressure, so gigabytes streaming through JS pile up garbage (a 1 GiB ingest
 * peaked at ~151 MiB, a 1 GiB upload at ~400 MiB). A full collection every 32 MiB streamed, counted across every
 * stream in the process, keeps the peak flat for a few milliseconds each time.
 */
const GC_EVERY_BYTES = 32 * 1024 * 1024;
let bytesSinceGc = 0;

/** Call with each chunk's size as it streams through. */
export function collectGarbageEvery(bytes: number): void {
  bytesSinceGc += bytes;
  if (bytesSinceGc < GC_EVERY_BYTES) return;
  bytesSinceGc = 0;
  Bun.gc(true);
}
