/** What the worker keeps for each item it holds (claimed and leased), from the claim until its outcome is written. */
import type { ClaimedItem, Logger } from '@mediaforge/core';

export interface Held {
  item: ClaimedItem;
  controller: AbortController;
  logger: Logger;
  startedAt: number;
  renewedAt: number;
  progress?: Record<string, unknown>;
  /** Its outcome is decided (recorded, queued for recording, or dropped); later news about it is ignored. */
  settled: boolean;
  timers: ReturnType<typeof setTimeout>[];
}

export function holdItem(item: ClaimedItem, logger: Logger, workerId: string): Held {
  const now = performance.now();
  return {
    item,
    controller: new AbortController(),
    logger: logger.child({ workerId, taskId: item.taskId, itemId: item.id, seq: item.seq, attempt: item.attempts }),
    startedAt: now,
    renewedAt: now,
    settled: false,
    timers: [],
  };
}
