/** The worker registry: who is running, where, since when, and what each has done. */
import { desc, eq, getTableColumns, sql } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import { type WorkerRow, workers } from '../db/queue-schema.ts';

export interface WorkerRegistration {
  id: string;
  host: string;
  pid: number;
  queues: string[];
  concurrency: number;
  version?: string;
}

export interface WorkerCounters {
  active: number;
  processed: number;
  failed: number;
}

export type WorkerState = 'online' | 'offline' | 'stopped';

export interface WorkerInfo extends WorkerCounters {
  id: string;
  host: string;
  pid: number;
  queues: string[];
  concurrency: number;
  startedAt: Date;
  lastSeen: Date;
  stoppedAt: Date | null;
  /** online: heartbeat seen recently; offline: heartbeats stopped without a goodbye (crash); stopped: shut down. */
  state: WorkerState;
}

export async function registerWorker(db: Db, worker: WorkerRegistration): Promise<void> {
  await db
    .insert(workers)
    .values({ ...worker, version: worker.version ?? null })
    .onConflictDoUpdate({
      target: workers.id,
      set: { lastSeen: sql`now()`, stoppedAt: null, concurrency: worker.concurrency, queues: worker.queues },
    });
}

export async function workerHeartbeat(db: Db, id: string, counters: WorkerCounters): Promise<void> {
  await db
    .update(workers)
    .set({ ...counters, lastSeen: sql`now()` })
    .where(eq(workers.id, id));
}

export async function deregisterWorker(db: Db, id: string, counters: WorkerCounters): Promise<void> {
  await db
    .update(workers)
    .set({ ...counters, active: 0, lastSeen: sql`now()`, stoppedAt: sql`now()` })
    .where(eq(workers.id, id));
}

/** Every known worker, newest first; `offlineAfterMs` without a heartbeat marks a worker offline. */
export async function listWorkers(db: Db, offlineAfterMs: number): Promise<WorkerInfo[]> {
  // Judged by the database clock, which every worker's heartbeat also used: no skew between machines.
  const rows: (WorkerRow & { stale: boolean })[] = await db
    .select({
      ...getTableColumns(workers),
      stale: sql<boolean>`${workers.lastSeen} < now() - make_interval(secs => ${offlineAfterMs / 1000}::double precision)`,
    })
    .from(workers)
    .orderBy(desc(workers.startedAt))
    .limit(1000);
  return rows.map((row) => ({
    id: row.id,
    host: row.host,
    pid: row.pid,
    queues: row.queues,
    concurrency: row.concurrency,
    startedAt: row.startedAt,
    lastSeen: row.lastSeen,
    stoppedAt: row.stoppedAt,
    active: row.stoppedAt ? 0 : row.active,
    processed: row.processed,
    failed: row.failed,
    state: row.stoppedAt ? 'stopped' : row.stale ? 'offline' : 'online',
  }));
}
