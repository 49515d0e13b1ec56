/** Worker processes (`mediaforge-worker`, exactly as deployed) that the suite kills and restarts. */
import { openSync } from 'node:fs';
import { join } from 'node:path';
import type { Subprocess } from 'bun';
import { Tally } from './net.ts';

const WORKER_MAIN = join(import.meta.dir, '../../packages/worker/src/main.ts');
/** Long enough for Bun to reach the worker's first line on a loaded 2-core machine (500 ms was not, at load 20). */
const MIN_AGE_FOR_SIGTERM_MS = 2000;

export interface FleetOptions {
  size: number;
  env: Record<string, string>;
  args: string[];
  logDir: string;
}

export class WorkerFleet {
  readonly events = new Tally();
  /** Exit codes (or signals) of every process that ended, for the report. */
  readonly exits: string[] = [];
  private readonly processes: (Subprocess | undefined)[] = [];
  private readonly startedAt: number[] = [];
  private starts = 0;

  constructor(private readonly options: FleetOptions) {}

  startAll(): void {
    for (let slot = 0; slot < this.options.size; slot++) this.start(slot);
  }

  private start(slot: number): void {
    const log = openSync(join(this.options.logDir, `worker-${slot}-${this.starts++}.log`), 'w');
    const child = Bun.spawn([process.execPath, WORKER_MAIN, ...this.options.args], {
      env: { ...process.env, ...this.options.env },
      stdout: log,
      stderr: log,
      stdin: 'ignore',
    });
    this.processes[slot] = child;
    this.startedAt[slot] = Date.now();
    void child.exited.then((code) => {
      this.exits.push(child.signalCode ? String(child.signalCode) : String(code));
    });
  }

  /** SIGKILL: the worker dies holding leases; its items come back when the leases expire. */
  async kill(slot: number, restartAfterMs = 300): Promise<void> {
    const child = this.processes[slot];
    if (!child) return;
    this.events.add('SIGKILL');
    child.kill('SIGKILL');
    await child.exited;
    await Bun.sleep(restartAfterMs);
    this.start(slot);
  }

  /** SIGTERM: the worker drains (finishes or hands back what it holds) and exits 0; then it is started again. */
  async terminate(slot: number): Promise<void> {
    const child = this.processes[slot];
    if (!child) return;
    await this.oldEnoughForSigterm(slot);
    this.events.add('SIGTERM');
    child.kill('SIGTERM');
    const code = await child.exited;
    if (code !== 0) this.events.add(`SIGTERM exit ${code}`);
    this.start(slot);
  }

  /**
   * Waits until the slot's process is old enough to have its signal handlers: before Bun has run a process's first
   * line nothing can catch a signal (a stop during start-up has its own test in database.test.ts).
   */
  private async oldEnoughForSigterm(slot: number): Promise<void> {
    const age = Date.now() - (this.startedAt[slot] ?? 0);
    if (age < MIN_AGE_FOR_SIGTERM_MS) await Bun.sleep(MIN_AGE_FOR_SIGTERM_MS - age);
  }

  /** Running processes that died on their own (not by our signals): the suite expects none. */
  unexpectedExits(): string[] {
    return this.exits.filter((exit) => exit !== 'SIGKILL' && exit !== '0');
  }

  /** SIGTERM to every live worker, each once it is old enough to have its handlers (see `terminate`). */
  async stopAll(): Promise<void> {
    const live = this.processes.flatMap((child, slot) =>
      child !== undefined && !child.killed ? [{ child, slot }] : [],
    );
    await Promise.all(
      live.map(async ({ child, slot }) => {
        await this.oldEnoughForSigterm(slot);
        child.kill('SIGTERM');
        await child.exited;
      }),
    );
  }

  get size(): number {
    return this.options.size;
  }
}
