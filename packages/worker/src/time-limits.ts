/** An item's time limits: the soft one aborts its signal, the hard one fails it whatever the handler is doing. */
import { itemTimeouts, type Outcome } from '@mediaforge/core';
import type { Held } from './held.ts';
import { formatMs, ItemAbort } from './item-outcome.ts';

/**
 * Arms both timers on `held` (cleared with its other timers). The task's own limits (`--soft-timeout`, `--timeout`)
 * apply where it set them, the worker's otherwise; `fail` records the hard timeout.
 */
export function armTimeLimits(
  held: Held,
  worker: { softTimeoutMs: number; hardTimeoutMs: number },
  fail: (outcome: Outcome) => void,
): void {
  const { softTimeoutMs, hardTimeoutMs } = itemTimeouts(held.item.options, worker);
  held.timers.push(
    setTimeout(() => {
      const message = `the item ran past the soft time limit (${formatMs(softTimeoutMs)}) and was stopped`;
      held.controller.abort(new ItemAbort('soft', message, 'TASK_SOFT_TIMEOUT'));
    }, softTimeoutMs),
    setTimeout(() => {
      const message = `the item ran past the hard time limit (${formatMs(hardTimeoutMs)}); its result is discarded`;
      const error = new ItemAbort('hard', message, 'TASK_TIMEOUT');
      held.controller.abort(error);
      fail({ id: held.item.id, status: 'failed', code: error.code, message: error.message });
    }, hardTimeoutMs),
  );
}
