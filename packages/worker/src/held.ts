/** What the worker keeps for each item it holds (claimed and leased), from the claim until its outcome is written. */
import { type ClaimedItem, type Db, type Logger, renewLeases } from '@mediaforge/core';
import type { ItemContext } from './types.ts';

export interface Held {
  item: ClaimedItem;
  /**
   * The handler's signal, made on first use: most short items never look at it, and an AbortController for each item
   * was ~4% of a no-op item's worker CPU.
   */
  readonly signal: AbortSignal;
  /** Why the item was stopped (the first `abort`), or undefined while it was not. */
  readonly abortReason: unknown;
  /** Stops the item: its signal fires with `reason` (now, or when the handler first asks for it). First call wins. */
  abort(reason: unknown): void;
  readonly logger: Logger;
  startedAt: number;
  renewedAt: number;
  progress?: Record<string, unknown>;
  /** Its outcome is decided (recorded, queued for recording, or dropped); later news about it is ignored. */
  settled: boolean;
  /** When it settled (performance.now()); its lease is renewed again only if its outcome waits long to be written. */
  settledAt?: number;
  /** Its time limits, set when it starts (watched by the worker's `Deadlines`). */
  limits?: { softTimeoutMs: number; hardTimeoutMs: number };
}

/**
 * The item's logger (its ids bound) is built on first use: a pino child with its bindings costs ~9% of a short
 * item's worker CPU, and most items log nothing below the configured level.
 */
export function holdItem(item: ClaimedItem, logger: Logger, workerId: string): Held {
  const now = performance.now();
  let child: Logger | undefined;
  let controller: AbortController | undefined;
  let reason: unknown;
  let aborted = false;
  return {
    item,
    get signal() {
      if (!controller) {
        controller = new AbortController();
        if (aborted) controller.abort(reason);
      }
      return controller.signal;
    },
    get abortReason() {
      return reason;
    },
    abort(why) {
      if (aborted) return;
      aborted = true;
      reason = why;
      controller?.abort(why);
    },
    get logger() {
      child ??= logger.child({ workerId, taskId: item.taskId, itemId: item.id, seq: item.seq, attempt: item.attempts });
      return child;
    },
    startedAt: now,
    renewedAt: now,
    settled: false,
  };
}

/**
 * The held items whose leases a heartbeat renews, and their progress. Items whose outcome is being written are left
 * alone unless that write is late (older than `lateAfterMs`): renewing them would wait on the completing statement's
 * row locks, and while it waits more outcomes queue up (a renewal of 6,000 such rows once took 750 ms and the backlog
 * fed itself). A late one keeps its lease: it is renewed well before it could lapse.
 */
export function toRenew(
  held: ReadonlyMap<number, Held>,
  lateAfterMs: number,
): { ids: number[]; progress: Record<string, unknown> } {
  const now = performance.now();
  const ids: number[] = [];
  const progress: Record<string, unknown> = {};
  for (const [id, item] of held) {
    if (item.settled && now - (item.settledAt ?? now) < lateAfterMs) continue;
    ids.push(id);
    if (item.progress) progress[id] = item.progress;
  }
  return { ids, progress };
}

/**
 * One heartbeat's renewal of the held items' leases (with their progress). An item the database no longer gives us
 * (cancelled, or taken over after a stall) is lost; when the renewal fails, so is every item not renewed for a whole
 * lease, since another worker may hold it by now.
 */
export async function renewHeld(
  db: Db,
  input: {
    workerId: string;
    held: ReadonlyMap<number, Held>;
    leaseMs: number;
    heartbeatMs: number;
    logger: Logger;
    lose: (held: Held, why: string) => void;
  },
): Promise<void> {
  const { workerId, held, leaseMs, lose } = input;
  const { ids, progress } = toRenew(held, input.heartbeatMs / 2);
  try {
    const still = new Set(await renewLeases(db, { workerId, ids, leaseMs, progress }));
    const renewedAt = performance.now();
    for (const id of ids) {
      const item = held.get(id);
      if (!item) continue;
      if (still.has(id)) item.renewedAt = renewedAt;
      else lose(item, 'it was cancelled or taken over by another worker');
    }
  } catch (error) {
    input.logger.warn({ workerId, err: error }, 'heartbeat failed');
    const failedAt = performance.now();
    for (const item of held.values()) {
      if (failedAt - item.renewedAt > leaseMs) lose(item, 'its lease could not be renewed in time');
    }
  }
}

/** What a handler gets for `held`: its signal and logger (made on first use), progress, and `yieldSlot`. */
export function itemContext(held: Held, yieldSlot: ItemContext['yieldSlot']): ItemContext {
  return {
    get signal() {
      return held.signal;
    },
    get logger() {
      return held.logger;
    },
    reportProgress: (progress) => {
      held.progress = progress;
    },
    yieldSlot,
  };
}
