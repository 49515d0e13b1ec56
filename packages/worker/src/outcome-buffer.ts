/**
 * The worker's outcome writer: finished items are recorded in batches by one writer at a time; items finishing
 * during a write join the next one. A failed write is retried (the items stay leased meanwhile, so nothing is lost).
 */
import {
  backoffMs,
  completeCancelled,
  completeItems,
  type Db,
  type FinishedTask,
  type Logger,
  type Outcome,
  withDeadlockRetry,
} from '@mediaforge/core';

export interface OutcomeBufferOptions {
  db: Db;
  workerId: string;
  logger: Logger;
  /** After a write: `accepted` is false when the item was cancelled or taken over meanwhile. */
  onWritten(outcome: Outcome, accepted: boolean): void;
  onTaskFinished(task: FinishedTask): void;
}

const BATCH = 500;

export class OutcomeBuffer {
  private readonly pending: Outcome[] = [];
  private flushing: Promise<void> | undefined;
  private abandoned = false;
  private scheduled = false;

  constructor(private readonly options: OutcomeBufferOptions) {}

  /**
   * Outcomes added in one turn of the event loop go in one write: items started together (one claim) finish together,
   * and writing the first alone cost a transaction for a batch of one.
   */
  add(outcome: Outcome): void {
    this.pending.push(outcome);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  /** Forgets a not-yet-written outcome (its item was lost). */
  discard(id: number): void {
    const index = this.pending.findIndex((outcome) => outcome.id === id);
    if (index >= 0) this.pending.splice(index, 1);
  }

  /**
   * Stops retrying and forgets what is not written (a stop while the database is unreachable): those items are
   * still leased to this worker, so they come back when the leases expire and run again. Returns how many.
   */
  abandon(): number {
    this.abandoned = true;
    return this.pending.splice(0).length;
  }

  /** Resolves once everything added so far is written (or abandoned). */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async drain(): Promise<void> {
    const { db, workerId, logger } = this.options;
    let failures = 0;
    while (this.pending.length > 0 && !this.abandoned) {
      const batch = this.pending.splice(0, BATCH);
      try {
        const { done, finished } = await withDeadlockRetry(() => completeItems(db, workerId, batch));
        const accepted = new Set(done);
        // Successes the completion did not take: items cancelled while their work finished anyway.
        const late = batch.filter((outcome) => !accepted.has(outcome.id) && outcome.status === 'succeeded');
        if (late.length > 0) {
          for (const id of await withDeadlockRetry(() => completeCancelled(db, workerId, late))) accepted.add(id);
        }
        failures = 0;
        for (const outcome of batch) this.options.onWritten(outcome, accepted.has(outcome.id));
        for (const task of finished) this.options.onTaskFinished(task);
      } catch (error) {
        if (this.abandoned) return;
        this.pending.unshift(...batch);
        failures += 1;
        logger.warn({ workerId, err: error, waiting: this.pending.length }, 'recording outcomes failed; retrying');
        await Bun.sleep(backoffMs(failures, { baseMs: 200, maxMs: 5000 }));
      }
    }
  }
}
