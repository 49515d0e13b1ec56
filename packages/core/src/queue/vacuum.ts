/**
 * Keeps `task_items` vacuumed when nothing else does. Every claim moves an item out of the claim index's predicate
 * (`status = 'queued'`), but its old entry stays on the index page until VACUUM removes it, and the next claim's
 * ordered scan walks past all of them (measured: 1,293 pages and 27 ms per claim at 214,000 items done, the rate
 * down to 46% of the first 100,000's). Autovacuum would clear them, but may be off (`autovacuum = off`) or may wait
 * for 20% of the table. So workers vacuum the table themselves once its dead tuples pass a threshold (decision 0044).
 *
 * For the same reason they ANALYZE it once a tenth of it changed since the last ANALYZE (autovacuum's own default):
 * with no statistics for a freshly enqueued batch the planner estimated 10 queued items among 1,000,000 and claimed
 * by sorting all of them (0.47 s a claim, 90 items/s) instead of reading the claim index in order (decision 0047).
 */
import { sql } from 'drizzle-orm';
import { type Executor, rows, toNumber } from './rows.ts';

export interface VacuumPolicy {
  /** Dead tuples that always allow a vacuum (default 50,000: ~25,000 items claimed and finished). */
  minDead?: number;
  /** Plus this fraction of the live rows, so a large table is not vacuumed for a few dead rows (default 0.05). */
  scaleFactor?: number;
}

export interface VacuumCheck {
  dead: number;
  live: number;
  threshold: number;
  vacuumed: boolean;
  /** Rows changed since the last ANALYZE, and whether this check ran one. */
  changed: number;
  analyzed: boolean;
}

export const VACUUM_MIN_DEAD = 50_000;
export const VACUUM_SCALE_FACTOR = 0.05;
/** ANALYZE past this many changed rows plus a tenth of the table (autovacuum's defaults). */
export const ANALYZE_MIN_CHANGED = 50;
export const ANALYZE_SCALE_FACTOR = 0.1;

/**
 * Runs `VACUUM task_items` when its dead tuples (the statistics' count) pass `minDead + scaleFactor × live`, and
 * `ANALYZE task_items` when the rows changed since the last one pass a tenth of the table (a vacuum then analyzes too).
 * SKIP_LOCKED: a vacuum or analyze already running (another worker's, autovacuum's) makes this one return at once, so
 * any number of workers may call it. Not in a transaction (VACUUM refuses one): pass the database, not a transaction.
 */
export async function vacuumTaskItemsIfDead(db: Executor, policy: VacuumPolicy = {}): Promise<VacuumCheck> {
  const [row] = await rows<{ dead: unknown; live: unknown; changed: unknown; size: unknown }>(
    db,
    sql`select n_dead_tup as dead, n_live_tup as live, n_mod_since_analyze as changed,
               greatest(n_live_tup, (select reltuples from pg_class where oid = 'task_items'::regclass))::bigint as size
        from pg_stat_user_tables where relid = 'task_items'::regclass`,
  );
  const dead = toNumber(row?.dead ?? 0);
  const live = toNumber(row?.live ?? 0);
  const changed = toNumber(row?.changed ?? 0);
  const threshold = Math.round(
    (policy.minDead ?? VACUUM_MIN_DEAD) + (policy.scaleFactor ?? VACUUM_SCALE_FACTOR) * live,
  );
  const vacuumed = dead >= threshold;
  const analyzed = changed >= ANALYZE_MIN_CHANGED + ANALYZE_SCALE_FACTOR * toNumber(row?.size ?? 0);
  // INDEX_CLEANUP ON: the point is the claim index's dead entries, which VACUUM may otherwise leave when few heap
  // pages hold dead tuples.
  if (vacuumed) {
    await db.execute(
      analyzed
        ? sql`vacuum (skip_locked, index_cleanup on, analyze) task_items`
        : sql`vacuum (skip_locked, index_cleanup on) task_items`,
    );
  } else if (analyzed) {
    await db.execute(sql`analyze (skip_locked) task_items`);
  }
  return { dead, live, threshold, vacuumed, changed, analyzed };
}
