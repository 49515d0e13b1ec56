/**
 * The worker: claims items in batches, runs them with bounded concurrency, renews their leases, records outcomes,
 * and shuts down without losing anything. An explicit state machine (starting → running → draining → stopped)
 * whose loop sleeps on a `Wakeup` that NOTIFY, a freed slot or shutdown can end early. Delivery is at-least-once:
 * an item whose worker dies comes back when its lease expires, so handlers must be idempotent (the built-in ones
 * are: deterministic record uids and object keys, sha256 checks).
 */
import { hostname } from 'node:os';
import {
  backoffMs,
  CANCEL_CHANNEL,
  type ClaimedItem,
  claimWork,
  DEFAULT_WORKER_QUEUES,
  deregisterWorker,
  FileProcessingError,
  ITEMS_CHANNEL,
  releaseItems,
  validateQueueName,
  workerHeartbeat,
} from '@mediaforge/core';
import { Deadlines } from './deadlines.ts';
import { type Held, holdItem, itemContext, renewHeld } from './held.ts';
import {
  armTimeLimits,
  type Decision,
  decide,
  hardStop,
  ItemAbort,
  logOutcome,
  scheduleRetry,
  settledWithin,
  softStop,
  valueWithin,
} from './item-outcome.ts';
import { housekeeping, reap, registerPatiently } from './maintenance.ts';
import { OutcomeBuffer } from './outcome-buffer.ts';
import { claimLimits, claimSize, nextToStart, pastCap, usersAtCap } from './slot-reserve.ts';
import { Storing } from './storing.ts';
import { workerTimings } from './timings.ts';
import type { WorkerOptions, WorkerState, WorkerTimings } from './types.ts';
import { Wakeup } from './wakeup.ts';

/** How long a stop keeps trying to record outcomes before leaving them to the leases. */
const STOP_FLUSH_MS = 5000;
/** How long a stop gives each of its last writes (hand-back, unlisten, deregistration). */
const STOP_WRITE_MS = 2000;

export class Worker {
  readonly id: string;
  readonly queues: string[];
  readonly concurrency: number;
  private state: WorkerState = 'idle';
  private readonly held = new Map<number, Held>();
  /** Items running now and their runs (the slot reserve counts them with the waiting ones). */
  private readonly running = new Map<Held, Promise<void>>();
  /** Running items that gave their slot up to finish beside the next (storing.ts); the slots are the others. */
  private readonly storing: Storing;
  /** Claimed (and leased) items waiting for a free slot: at most `prefetch` of them. */
  private readonly waiting: Held[] = [];
  private readonly wakeup = new Wakeup();
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  /** Held items with an owner: with none, the slot reserve has nothing to count (slot-reserve.ts). */
  private userItems = 0;
  private readonly deadlines = new Deadlines(softStop, (held) =>
    hardStop(held, (outcome) => this.settle(held, outcome)),
  );
  private readonly unlisten: (() => Promise<void>)[] = [];
  private loopDone: Promise<void> = Promise.resolve();
  private lastClaimFull = false;
  /** The users whose items the last claim brought: the next is limited to what fits under their cap. */
  private lastOwners = new Set<string>();
  /** The slot reserve limited the last claim (a user left out, or fewer items taken): a freed slot claims at once. */
  private restricted = false;
  private counters = { processed: 0, failed: 0 };
  private readonly outcomes: OutcomeBuffer;
  private resolveStopped: () => void = () => {};
  /** Resolves once the worker has stopped, whoever stopped it. */
  readonly stopped = new Promise<void>((resolve) => {
    this.resolveStopped = resolve;
  });
  private readonly o: WorkerTimings;

  constructor(private readonly options: WorkerOptions) {
    this.id = options.id ?? `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
    this.queues = (options.queues ?? [...DEFAULT_WORKER_QUEUES]).map(validateQueueName);
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? 4));
    this.storing = new Storing(this.concurrency);
    this.o = workerTimings(options, this.concurrency);
    this.outcomes = new OutcomeBuffer({
      db: options.database.db,
      workerId: this.id,
      logger: options.logger,
      onWritten: (outcome, accepted) => {
        const held = this.held.get(outcome.id);
        if (!accepted) held?.logger.warn('outcome not recorded: the item was cancelled or taken over meanwhile');
        if (held) this.forget(held);
      },
      onTaskFinished: (task) => {
        options.logger.info({ workerId: this.id, taskId: task.id, status: task.status }, 'task finished');
        options.onTaskFinished?.(task);
      },
    });
  }

  /** Running items holding a slot: all but the storing ones. */
  private get holders(): ReadonlyMap<Held, unknown> {
    return this.storing.without(this.running);
  }

  /** Slots plus prefetched items. */
  private get places(): number {
    return this.concurrency + this.o.prefetch;
  }

  get status(): WorkerState {
    return this.state;
  }

  /** Registers, starts listening and claiming. Resolves once the worker is running. */
  async start(): Promise<void> {
    if (this.state !== 'idle') throw new Error(`worker ${this.id} was already started`);
    const { db } = this.options.database;
    const registration = {
      id: this.id,
      host: hostname(),
      pid: process.pid,
      queues: this.queues,
      concurrency: this.concurrency,
      ...(this.options.version ? { version: this.options.version } : {}),
    };
    await registerPatiently(db, registration);
    this.unlisten.push(
      await this.options.database.listen(ITEMS_CHANNEL, (queue) => {
        if (this.queues.includes(queue)) this.wakeup.wake();
      }),
      await this.options.database.listen(CANCEL_CHANNEL, () => void this.heartbeat()),
    );
    this.state = 'running';
    const every = (ms: number, work: () => unknown) => this.timers.push(setInterval(work, ms));
    every(this.o.heartbeatMs, () => void this.heartbeat());
    every(this.o.reapMs, () => void this.reap());
    housekeeping(this.options, this.options.logger.child({ workerId: this.id }), every, () => this.state === 'running');
    this.options.logger.info(
      { workerId: this.id, queues: this.queues, concurrency: this.concurrency },
      'worker started',
    );
    void this.reap();
    this.loopDone = this.loop();
  }

  /**
   * Graceful stop: claim nothing more, give in-flight items `graceMs` to finish, hand back the rest (their
   * attempt is not spent), record every outcome, deregister.
   */
  async stop({ graceMs = this.o.graceMs }: { graceMs?: number } = {}): Promise<void> {
    if (this.state === 'stopped' || this.state === 'idle') return;
    if (this.state === 'draining') return this.loopDone;
    this.state = 'draining';
    this.wakeup.wake();
    const log = this.options.logger;
    log.info({ workerId: this.id, inFlight: this.running.size, graceMs }, 'worker draining');
    const stopped = (async () => {
      await this.loopDone;
      await settledWithin([...this.running.values()], graceMs);
      for (const held of this.held.values()) {
        if (!held.settled) held.abort(new ItemAbort('shutdown', 'the worker is shutting down', 'SHUTDOWN'));
      }
      // Handlers honour their signal; one that does not is handed back anyway after a short wait.
      await settledWithin([...this.running.values()], 5000);
      const unfinished = [...this.held.values()].filter((held) => !held.settled);
      for (const held of unfinished) held.settled = true;
      // Outcomes that cannot be written now (the database down or restarting) come back through the leases: items
      // run at least once, and a re-run finds its own record. The writer retries for a while, then gives up, so a
      // stop never waits on a database that does not come back.
      await settledWithin([this.outcomes.flush()], STOP_FLUSH_MS);
      const unwritten = this.outcomes.abandon();
      if (unwritten > 0) {
        log.warn({ workerId: this.id, unwritten }, 'outcomes not written at stop; leases bring them back');
      }
      // Each last write is bounded too: with the database unreachable a query waits for its connect timeout, and
      // an orchestrator's stop deadline (often 30 s) should not be spent on writes that the leases make up for.
      const { db } = this.options.database;
      const ids = unfinished.map((held) => held.item.id);
      const released = await valueWithin(releaseItems(db, this.id, ids), STOP_WRITE_MS, 0);
      for (const held of unfinished) this.forget(held);
      for (const timer of this.timers) clearInterval(timer);
      await settledWithin(
        this.unlisten.map((fn) => fn()),
        STOP_WRITE_MS,
      );
      await settledWithin([deregisterWorker(db, this.id, { active: 0, ...this.counters })], STOP_WRITE_MS);
      this.state = 'stopped';
      log.info({ workerId: this.id, released, ...this.counters }, 'worker stopped');
      this.resolveStopped();
    })();
    this.loopDone = stopped;
    return stopped;
  }

  private async loop(): Promise<void> {
    const log = this.options.logger;
    let failures = 0;
    while (this.state === 'running') {
      const holders = this.holders;
      const free = this.places - holders.size - this.waiting.length;
      // With prefetch, refill once half the local queue is gone (one claim of ~prefetch/2 items, not many of one or
      // two), unless a free slot has no waiting item it may take (all a user's at the running cap: slot-reserve.ts).
      const { starved, excludeOwners } = claimLimits(
        holders,
        this.waiting,
        this.concurrency,
        this.places,
        this.userItems,
      );
      if (free <= 0 || (this.waiting.length > this.o.prefetch / 2 && !starved)) {
        await this.wakeup.wait(this.o.pollMs);
        continue;
      }
      const wanted = Math.min(free, this.o.batchSize);
      const held = [...holders.keys(), ...this.waiting];
      const { limit, limited } = claimSize(held, this.places, excludeOwners, this.lastOwners, wanted);
      this.restricted = excludeOwners.length > 0 || limited;
      const input = { workerId: this.id, queues: this.queues, leaseMs: this.o.leaseMs, limit };
      let claimed: ClaimedItem[];
      try {
        const { db } = this.options.database;
        claimed = await claimWork(db, { ...input, excludeOwners });
        failures = 0;
      } catch (error) {
        failures += 1;
        log.warn({ workerId: this.id, err: error }, 'claiming failed; retrying');
        await this.wakeup.wait(backoffMs(failures, { baseMs: 500, maxMs: 10_000 }));
        continue;
      }
      if (this.state !== 'running') {
        // Stopped while claiming: hand the items straight back.
        const ids = claimed.map((item) => item.id);
        await releaseItems(this.options.database.db, this.id, ids).catch(() => {});
        break;
      }
      const past = new Set(pastCap([...this.holders.keys(), ...this.waiting], claimed, this.places));
      if (past.size > 0) await this.handBack([...past]);
      for (const item of claimed) if (!past.has(item)) this.admit(item);
      if (claimed.length > 0) this.lastOwners = new Set(claimed.flatMap((item) => item.userId ?? []));
      this.pump();
      // Full up to a user's room is not full: the place left is for others, claimed when a slot frees or on notice.
      this.lastClaimFull = claimed.length === limit && !limited;
      // Idle only if the claim left no one out: the users it excluded may have finished everything meanwhile.
      const idle = claimed.length === 0 && excludeOwners.length === 0 && this.held.size === 0;
      if (this.options.untilIdle && idle && this.running.size === 0) {
        this.options.logger.info({ workerId: this.id }, 'nothing left to run: stopping (--until-idle)');
        void this.stop();
        break;
      }
      // A full batch means more may be waiting: claim again at once if a slot (or prefetch room) is free.
      if (this.lastClaimFull && this.holders.size + this.waiting.length < this.places) continue;
      await this.wakeup.wait(this.o.pollMs);
    }
  }

  /** Hands claimed items straight back (past the slot reserve's cap); run anyway if that fails, not left leased. */
  private async handBack(items: ClaimedItem[]): Promise<void> {
    const ids = items.map((item) => item.id);
    const released = await releaseItems(this.options.database.db, this.id, ids).catch(() => -1);
    if (released < 0) for (const item of items) this.admit(item);
  }

  /** A claimed item is held (its lease renewed by heartbeats) from the claim on, and waits for a slot. */
  private admit(item: ClaimedItem): void {
    const held = holdItem(item, this.options.logger, this.id);
    this.held.set(item.id, held);
    if (item.userId) this.userItems += 1;
    this.waiting.push(held);
  }

  /** Starts waiting items while slots are free; items lost or settled while waiting are skipped. */
  private pump(): void {
    while (this.state === 'running' && this.holders.size < this.concurrency && this.waiting.length > 0) {
      const at = nextToStart(this.waiting, usersAtCap(this.holders.keys(), this.concurrency, this.userItems));
      if (at < 0) break;
      const [held] = this.waiting.splice(at, 1) as [Held];
      if (held.settled || this.held.get(held.item.id) !== held) continue;
      held.startedAt = performance.now();
      const run = this.runItem(held).finally(() => {
        this.storing.leave(held);
        this.running.delete(held);
        this.slotFreed();
      });
      this.running.set(held, run);
    }
  }

  /** A slot is free: start a waiting item, and claim again at once if the last claim may have left some behind. */
  private slotFreed(): void {
    this.pump();
    if (this.lastClaimFull || this.restricted) this.wakeup.wake();
  }

  private async runItem(held: Held): Promise<void> {
    const { item } = held;
    const handler = this.options.handlers[item.kind];
    armTimeLimits(held, this.o, this.deadlines);
    if (this.options.logger.isLevelEnabled('debug')) held.logger.debug({ kind: item.kind }, 'item started');
    try {
      if (!handler) {
        throw new FileProcessingError(`this worker has no handler for ${item.kind} items`, 'NO_HANDLER');
      }
      const result = await handler(
        item,
        itemContext(held, async (bytes) => {
          if (await this.storing.enter(held, bytes, () => held.settled || !this.running.has(held))) this.slotFreed();
        }),
      );
      const reason = held.abortReason;
      const outcome = { id: item.id, status: 'succeeded' as const, result };
      // Lost (cancelled, or taken over) but done: its success is recorded if a cancel came too late to stop it.
      if (reason instanceof ItemAbort && reason.kind === 'lost') this.outcomes.add(outcome);
      else this.settle(held, outcome);
    } catch (error) {
      this.settle(held, decide(held.item, held.abortReason, error, this.options.retry));
    } finally {
      this.deadlines.delete(held);
    }
  }

  /** What a thrown error means for the item: record a failure, retry later, hand back, or drop silently. */
  private settle(held: Held, outcome: Decision): void {
    if (held.settled) return;
    held.settled = true;
    held.settledAt = performance.now();
    this.deadlines.delete(held);
    const ms = Math.round(performance.now() - held.startedAt);
    if (outcome === 'drop') {
      held.logger.warn({ ms }, 'item dropped: cancelled or its lease was lost; nothing recorded');
      this.forget(held);
      return;
    }
    if (outcome === 'release') {
      // Handed back in one statement by stop().
      held.settled = false;
      return;
    }
    if ('retry' in outcome) {
      held.logger.warn(
        { ms, code: outcome.retry.code, delayMs: outcome.delayMs, err: outcome.retry.message },
        'item will be retried',
      );
      void scheduleRetry(this.options.database.db, this.id, held, outcome).finally(() => this.forget(held));
      return;
    }
    this.counters[outcome.status === 'succeeded' ? 'processed' : 'failed'] += 1;
    logOutcome(held, outcome, ms, this.options.logger);
    this.outcomes.add(outcome);
  }

  private forget(held: Held): void {
    this.deadlines.delete(held);
    if (this.held.get(held.item.id) !== held) return;
    this.held.delete(held.item.id);
    if (held.item.userId) this.userItems -= 1;
    // --until-idle: the last item done, the loop (asleep until the next poll) looks again at once and exits if idle.
    if (this.options.untilIdle && this.held.size === 0) this.wakeup.wake();
  }

  /** Renews leases; items no longer ours (cancelled, or taken over after a stall) are aborted and dropped. */
  private async heartbeat(): Promise<void> {
    if (this.state === 'idle' || this.state === 'stopped') return;
    const { db } = this.options.database;
    const { leaseMs, heartbeatMs } = this.o;
    const lose = (held: Held, why: string) => this.lose(held, why);
    await renewHeld(db, {
      workerId: this.id,
      held: this.held,
      leaseMs,
      heartbeatMs,
      logger: this.options.logger,
      lose,
    });
    await workerHeartbeat(db, this.id, { active: this.running.size, ...this.counters }).catch(() => {});
  }

  private lose(held: Held, why: string): void {
    held.logger.warn(`item lost: ${why}; stopping it without recording anything`);
    held.abort(new ItemAbort('lost', `lost: ${why}`, 'CLAIM_LOST'));
    held.settled = true;
    this.outcomes.discard(held.item.id);
    this.forget(held);
  }

  private async reap(): Promise<void> {
    if (this.state !== 'running') return;
    if (await reap(this.options.database.db, this.options.logger.child({ workerId: this.id }))) this.wakeup.wake();
  }
}
