/**
 * Items that gave their slot up to finish beside the next one (`ItemContext.yieldSlot`): an ingest item whose file is
 * downloaded and checked stores it while the next item downloads, as the CLI's batches do (batch-pacing.ts). A slot is
 * then what the origins and the item limits see, and files storing at once share the database's group commits and
 * the disk's syncs, where holding the slot while storing left the pipeline mostly waiting (decision 0059).
 *
 * Bounded like the batches: at most `STORING_PER_DOWNLOAD` storing items per slot (past that an item keeps its slot),
 * and the bodies they hold in memory at most `STORING_MEMORY_BYTES` in all beyond one item's (an item waits, holding
 * its slot, until its bytes fit). A storing item stays running and leased: heartbeats, cancel, timeouts and shutdown
 * treat it as before.
 */
import { STORING_MEMORY_BYTES, STORING_PER_DOWNLOAD } from '@mediaforge/core';
import type { Held } from './held.ts';

export class Storing {
  private readonly bytes = new Map<Held, number>();
  private inMemory = 0;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly slots: number,
    private readonly memoryBytes = STORING_MEMORY_BYTES,
  ) {}

  /** Items storing now (they hold no slot). */
  get size(): number {
    return this.bytes.size;
  }

  has(held: Held): boolean {
    return this.bytes.has(held);
  }

  /** `running` without the storing items: the ones holding a slot (`running` itself when none is storing). */
  without<V>(running: ReadonlyMap<Held, V>): ReadonlyMap<Held, V> {
    if (this.bytes.size === 0) return running;
    return new Map([...running].filter(([held]) => !this.bytes.has(held)));
  }

  /**
   * Lets `held` give its slot up once `bytesInMemory` fit beside the other storing items' (waits until they do).
   * False, and the item keeps its slot, when the storing places are full or the item has ended meanwhile.
   */
  async enter(held: Held, bytesInMemory: number, ended: () => boolean): Promise<boolean> {
    if (this.bytes.has(held)) return false;
    // A handler's count: anything but a finite positive number counts as nothing (NaN would disable the budget).
    const bytes = Number.isFinite(bytesInMemory) && bytesInMemory > 0 ? bytesInMemory : 0;
    while (bytes > 0 && this.inMemory > 0 && this.inMemory + bytes > this.memoryBytes) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    // Checked again after waiting: the item may have ended, or entered through a second call meanwhile.
    if (ended() || this.bytes.has(held) || this.bytes.size >= this.slots * STORING_PER_DOWNLOAD) return false;
    this.bytes.set(held, bytes);
    this.inMemory += bytes;
    return true;
  }

  /** The item ended: its memory is free for the others. */
  leave(held: Held): void {
    const bytes = this.bytes.get(held);
    if (bytes === undefined) return;
    this.bytes.delete(held);
    this.inMemory -= bytes;
    const waiting = this.waiters;
    this.waiters = [];
    for (const wake of waiting) wake();
  }
}
