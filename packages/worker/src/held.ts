/** What the worker keeps for each item it holds (claimed and leased), from the claim until its outcome is written. */
import type { ClaimedItem, Logger } from '@mediaforge/core';

export interface Held {
  item: ClaimedItem;
  controller: AbortController;
  readonly logger: Logger;
  startedAt: number;
  renewedAt: number;
  progress?: Record<string, unknown>;
  /** Its outcome is decided (recorded, queued for recording, or dropped); later news about it is ignored. */
  settled: boolean;
  /** When it settled (performance.now()); its lease is renewed again only if its outcome waits long to be written. */
  settledAt?: number;
  timers: ReturnType<typeof setTimeout>[];
}

/**
 * The item's logger (its ids bound) is built on first use: a pino child with its bindings costs ~9% of a short
 * item's worker CPU, and most items log nothing below the configured level.
 */
export function holdItem(item: ClaimedItem, logger: Logger, workerId: string): Held {
  const now = performance.now();
  let child: Logger | undefined;
  return {
    item,
    controller: new AbortController(),
    get logger() {
      child ??= logger.child({ workerId, taskId: item.taskId, itemId: item.id, seq: item.seq, attempt: item.attempts });
      return child;
    },
    startedAt: now,
    renewedAt: now,
    settled: false,
    timers: [],
  };
}
