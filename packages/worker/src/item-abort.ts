/** Why an item's signal fired, and the timing helpers the worker's time limits use. */
import { FileProcessingError } from '@mediaforge/core';

export type AbortKind = 'lost' | 'soft' | 'hard' | 'shutdown';

export class ItemAbort extends FileProcessingError {
  constructor(
    readonly kind: AbortKind,
    message: string,
    code: string,
  ) {
    super(message, code);
  }
}

/** Waits for the promises to settle, at most `ms`; the timer never outlives the wait (it would hold the process). */
export async function settledWithin(promises: Promise<unknown>[], ms: number): Promise<void> {
  if (promises.length === 0) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.allSettled(promises),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

export function formatMs(ms: number): string {
  return ms >= 60_000 ? `${(ms / 60_000).toFixed(ms % 60_000 === 0 ? 0 : 1)} min` : `${(ms / 1000).toFixed(1)} s`;
}
