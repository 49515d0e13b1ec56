/**
 * Live task snapshots for Server-Sent Events. One poller per app reads every watched task in one query per tick,
 * however many clients are listening, and hands each row to that task's subscribers.
 */
import { type Db, type TaskRow, tasks } from '@mediaforge/core';
import { inArray } from 'drizzle-orm';

type Listener = (task: TaskRow | undefined) => void;

export class TaskEvents {
  private readonly listeners = new Map<string, Set<Listener>>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  constructor(
    private readonly db: Db,
    readonly intervalMs: number,
  ) {}

  /** Calls `listener` with the task's row every tick (`undefined` once it is gone). Returns the unsubscribe. */
  subscribe(taskId: string, listener: Listener): () => void {
    let set = this.listeners.get(taskId);
    if (!set) {
      set = new Set();
      this.listeners.set(taskId, set);
    }
    set.add(listener);
    this.schedule();
    return () => {
      const current = this.listeners.get(taskId);
      current?.delete(listener);
      if (current?.size === 0) this.listeners.delete(taskId);
    };
  }

  /** Stops polling and tells every subscriber the stream is over (as if its task were gone). */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const all = [...this.listeners.values()];
    this.listeners.clear();
    for (const set of all) for (const listener of set) listener(undefined);
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => void this.tick(), this.intervalMs);
  }

  private async tick(): Promise<void> {
    const ids = [...this.listeners.keys()];
    try {
      if (ids.length > 0) {
        const rows = await this.db.select().from(tasks).where(inArray(tasks.id, ids));
        const byId = new Map(rows.map((row) => [row.id, row]));
        for (const id of ids) {
          for (const listener of this.listeners.get(id) ?? []) listener(byId.get(id));
        }
      }
    } catch {
      // A failed read (database restarting) is retried on the next tick; listeners keep their last snapshot.
    } finally {
      this.timer = undefined;
      if (this.listeners.size > 0) this.schedule();
    }
  }
}
