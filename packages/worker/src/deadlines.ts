/**
 * The running items' time limits, kept by one timer armed for the earliest of them. Two timers per item (set when it
 * started, cleared when it ended) were ~6% of a short item's worker CPU (profile of 100,000 no-op items).
 */
import type { Held } from './held.ts';

interface Limits {
  softAt: number;
  hardAt: number;
}

export class Deadlines {
  private readonly limits = new Map<Held, Limits>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private armedFor = Number.POSITIVE_INFINITY;

  constructor(
    private readonly onSoft: (held: Held) => void,
    private readonly onHard: (held: Held) => void,
  ) {}

  /** Watches `held` from now: `onSoft` after `softMs`, `onHard` after `hardMs` (each at most once). */
  add(held: Held, softMs: number, hardMs: number): void {
    const now = performance.now();
    const limits = { softAt: now + softMs, hardAt: now + hardMs };
    this.limits.set(held, limits);
    this.arm(Math.min(limits.softAt, limits.hardAt));
  }

  /** Stops watching `held` (it ended). */
  delete(held: Held): void {
    this.limits.delete(held);
    if (this.limits.size === 0) this.clear();
  }

  clear(): void {
    this.limits.clear();
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
  }

  get size(): number {
    return this.limits.size;
  }

  private arm(at: number): void {
    if (at >= this.armedFor) return;
    clearTimeout(this.timer);
    this.armedFor = at;
    this.timer = setTimeout(() => this.fire(), Math.max(0, at - performance.now()));
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    for (const [held, limits] of this.limits) {
      if (limits.softAt <= now) {
        limits.softAt = Number.POSITIVE_INFINITY;
        this.onSoft(held);
      }
      if (limits.hardAt <= now) {
        this.limits.delete(held);
        this.onHard(held);
        continue;
      }
      next = Math.min(next, limits.softAt, limits.hardAt);
    }
    if (next < Number.POSITIVE_INFINITY) this.arm(next);
  }
}
