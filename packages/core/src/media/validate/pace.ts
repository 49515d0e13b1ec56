/**
 * Cooperative yielding for parsers. Validation may run on a thread that serves other work (the in-process fallback
 * when no worker thread can start), so a long walk hands the event loop back every slice instead of holding it for
 * the whole file.
 */

/** Longest stretch of parsing between two yields. */
export const PARSE_SLICE_MS = 20;

let sliceStart = performance.now();

/** Yields to the event loop when the current slice has run out; cheap otherwise. Call once per loop iteration. */
export async function pace(): Promise<void> {
  if (performance.now() - sliceStart < PARSE_SLICE_MS) return;
  await new Promise<void>((resolve) => setImmediate(resolve));
  sliceStart = performance.now();
}
