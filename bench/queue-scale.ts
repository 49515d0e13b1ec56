/**
 * Queue at scale: one task of 1,000,000 no-op items on PostgreSQL burnt down by 2 worker processes × 24. Reports the
 * enqueue time, the burn-down rate per 100,000 items (the last 100,000 against the first: goal ≥ 80%), and what the
 * run left in `task_items`: index sizes against the same indexes rebuilt (REINDEX), the table's dead and free space
 * (pgstattuple), HOT updates and the vacuums that ran. Progress is read from the task's own counters (one row), so polling costs nothing.
 */
import { join } from 'node:path';
import { createTestPostgres } from '@mediaforge/core/testing';
import postgres from 'postgres';
import { type Benchmark, fixed } from './lib.ts';

const CHILD = join(import.meta.dir, 'queue.child.ts');
/** `QUEUE_SCALE_ITEMS` / `QUEUE_SCALE_STEP`: a smaller run to iterate with (default 1,000,000 by 100,000). */
const ITEMS = Number(process.env.QUEUE_SCALE_ITEMS ?? 1_000_000);
const STEP = Number(process.env.QUEUE_SCALE_STEP ?? 100_000);
const GOAL = 0.8;
/** `QUEUE_SCALE_VACUUM=1`: the bench runs VACUUM on task_items at every step, as autovacuum would with a threshold. */
const VACUUM_EACH_STEP = process.env.QUEUE_SCALE_VACUUM === '1';
/** The claim's index scan alone (no lock), to read how many buffers it touches: the dead entries it walks past. */
const CLAIM_PROBE = `explain (analyze, buffers, format json)
  select id from task_items where status = 'queued' and queue = 'bench' and run_at <= now()
  order by priority desc nulls last, fair_at, id limit 24`;

type Sql = ReturnType<typeof postgres>;

interface Relation {
  name: string;
  bytes: number;
}

async function sizes(sql: Sql): Promise<Relation[]> {
  const rows = await sql<{ name: string; bytes: string }[]>`
    select c.relname as name, pg_relation_size(c.oid)::bigint as bytes from pg_class c
    where c.oid = 'task_items'::regclass
       or c.oid in (select indexrelid from pg_index where indrelid = 'task_items'::regclass)
    order by c.relname`;
  return rows.map((r) => ({ name: r.name, bytes: Number(r.bytes) }));
}

async function tableStats(sql: Sql) {
  const [row] = await sql<Record<string, string | null>[]>`
    select n_live_tup, n_dead_tup, n_tup_upd, n_tup_hot_upd, vacuum_count, autovacuum_count,
           current_setting('autovacuum') as autovacuum,
           coalesce((select array_to_string(reloptions, ',') from pg_class where relname = 'task_items'), '') as reloptions
    from pg_stat_user_tables where relname = 'task_items'`;
  return row ?? {};
}

export const queueScale: Benchmark = {
  name: 'queue-scale',
  title: 'Queue at scale: one task of 1,000,000 items, 2 worker processes',
  async run({ smoke }) {
    const items = smoke ? 20_000 : ITEMS;
    const step = smoke ? 5_000 : STEP;
    const concurrency = 24;
    const database = await createTestPostgres();
    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    const workers: ReturnType<typeof Bun.spawn>[] = [];
    try {
      const setup = Bun.spawn(['bun', CHILD, 'setup', 'mediaforge', database.url, String(items)], {
        stdout: 'pipe',
        stderr: 'inherit',
      });
      const out = await new Response(setup.stdout).text();
      if ((await setup.exited) !== 0) throw new Error('queue-scale setup failed');
      const enqueueSeconds = (JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { seconds: number }).seconds;
      const before = await sizes(sql);
      for (let i = 0; i < 2; i++) {
        workers.push(
          Bun.spawn(['bun', CHILD, 'work', 'mediaforge', database.url, String(concurrency)], {
            stdout: 'pipe',
            stderr: 'inherit',
          }),
        );
      }
      // The clock starts at the first finished item, as in the queue benchmark (worker start-up is not burn-down).
      const marks: {
        at: number;
        done: number;
        claimIndexBytes: number;
        deadTuples: number;
        claimBuffers: number;
        claimMs: number;
      }[] = [];
      const deadline = Date.now() + 60 * 60_000;
      let next = 0;
      for (;;) {
        await Bun.sleep(100);
        const [row] = await sql<{ done: number }[]>`
          select succeeded + failed + cancelled as done from tasks limit 1`;
        const done = row?.done ?? 0;
        if (done > 0 && next === 0) next = done;
        if (next > 0 && (done >= next || done >= items)) {
          const [stat] = await sql<{ claim: string; dead: string }[]>`
            select pg_relation_size('task_items_claim_idx')::bigint as claim,
                   (select n_dead_tup from pg_stat_user_tables where relname = 'task_items')::bigint as dead`;
          const at = performance.now();
          const [probe] =
            await sql.unsafe<
              {
                'QUERY PLAN': [
                  { Plan: { 'Shared Hit Blocks': number; 'Shared Read Blocks': number }; 'Execution Time': number },
                ];
              }[]
            >(CLAIM_PROBE);
          const plan = probe?.['QUERY PLAN'][0];
          marks.push({
            at,
            done,
            claimIndexBytes: Number(stat?.claim ?? 0),
            deadTuples: Number(stat?.dead ?? 0),
            claimBuffers: (plan?.Plan['Shared Hit Blocks'] ?? 0) + (plan?.Plan['Shared Read Blocks'] ?? 0),
            claimMs: plan?.['Execution Time'] ?? 0,
          });
          // Its own time is not the queue's: the workers run on while it vacuums, so the step's clock keeps going.
          if (VACUUM_EACH_STEP && done < items) await sql.unsafe('vacuum task_items');
          next = (Math.floor(done / step) + 1) * step;
        }
        if (done >= items) break;
        if (Date.now() > deadline) throw new Error(`${items - done} items left after an hour`);
      }
      for (const worker of workers) worker.kill('SIGTERM');
      await Promise.all(workers.map((worker) => worker.exited));
      const atEnd = await sizes(sql);
      const stats = await tableStats(sql);
      await sql`create extension if not exists pgstattuple`;
      const [heap] = await sql<{ table_len: string; dead_tuple_percent: number; free_percent: number }[]>`
        select table_len, dead_tuple_percent, free_percent from pgstattuple('task_items')`;
      await sql.unsafe('reindex table task_items');
      const rebuilt = await sizes(sql);

      const first = marks[0] as (typeof marks)[number];
      // The rate of each step of `step` items, from the first mark at or past each boundary.
      const steps: { upTo: number; seconds: number; rate: number }[] = [];
      let previous = first;
      for (const mark of marks.slice(1)) {
        const seconds = (mark.at - previous.at) / 1000;
        steps.push({ upTo: mark.done, seconds, rate: (mark.done - previous.done) / seconds });
        previous = mark;
      }
      const firstRate = steps[0]?.rate ?? 0;
      const lastRate = steps.at(-1)?.rate ?? 0;
      const ratio = lastRate / firstRate;
      const total = ((marks.at(-1)?.at ?? 0) - first.at) / 1000;
      const mib = (bytes: number) => fixed(bytes / 1024 ** 2, 1);
      const rebuiltOf = (name: string) => rebuilt.find((r) => r.name === name)?.bytes ?? 0;
      return {
        results: { items, step, concurrency, enqueueSeconds, marks, steps, before, atEnd, rebuilt, stats, heap },
        pass: ratio >= GOAL,
        table: [
          [
            'items done',
            'seconds for the step',
            'items/s',
            '÷ first step',
            'claim index MiB',
            'dead tuples',
            'claim scan buffers',
            'claim scan ms',
          ],
          ...steps.map((s, i) => [
            String(s.upTo),
            fixed(s.seconds, 1),
            fixed(s.rate, 0),
            fixed(s.rate / firstRate, 2),
            mib(marks[i + 1]?.claimIndexBytes ?? 0),
            String(marks[i + 1]?.deadTuples ?? ''),
            String(marks[i + 1]?.claimBuffers ?? ''),
            fixed(marks[i + 1]?.claimMs ?? 0, 1),
          ]),
        ],
        notes: [
          `Goal: the last ${step.toLocaleString('en')} items at ≥ ${GOAL * 100}% of the first ${step.toLocaleString('en')}'s rate: ${fixed(ratio * 100, 0)}% (${fixed(lastRate, 0)} against ${fixed(firstRate, 0)} items/s). Enqueue of ${items.toLocaleString('en')} items in one task (one transaction: the task with its first 5,000 items in one statement, then 5,000-row inserts): ${fixed(enqueueSeconds, 1)} s. Burn-down from the first finished item: ${fixed(total, 1)} s, ${fixed((items - first.done) / total, 0)} items/s overall. The first row starts at the first progress reading (${first.done} items done).`,
          `\`task_items\` at the end (MiB; after the enqueue → at the end → the index rebuilt by REINDEX): ${atEnd
            .map((r) => {
              const after = mib(before.find((b) => b.name === r.name)?.bytes ?? 0);
              return r.name === 'task_items'
                ? `table ${after} → ${mib(r.bytes)}, of which ${fixed(heap?.dead_tuple_percent ?? 0, 0)}% dead tuples and ${fixed(heap?.free_percent ?? 0, 0)}% free (pgstattuple)`
                : `${r.name} ${after} → ${mib(r.bytes)} → ${mib(rebuiltOf(r.name))}`;
            })
            .join('; ')}.`,
          `Vacuum behaviour: server autovacuum = ${stats.autovacuum}; table reloptions: ${stats.reloptions || 'none'}; ${stats.n_tup_upd} updates of which ${stats.n_tup_hot_upd} HOT; ${stats.n_dead_tup} dead tuples at the end; vacuums during the run: ${stats.vacuum_count} manual, ${stats.autovacuum_count} automatic.`,
          `Workers: 2 processes × ${concurrency} concurrency, mediaforge defaults (no prefetch), no-op handler. Progress: the task's counters polled every 100 ms; a row per ${step.toLocaleString('en')} items. Claim scan: the claim's index scan for 24 items run alone at each row (EXPLAIN ANALYZE, BUFFERS): the pages it reads, dead index entries included. ${VACUUM_EACH_STEP ? 'This run: the bench ran `VACUUM task_items` at each row (QUEUE_SCALE_VACUUM=1), while the workers went on.' : 'This run: no VACUUM from the bench; the workers vacuum `task_items` past their dead-tuple threshold (decision 0044), counted as manual vacuums above.'}`,
        ],
      };
    } finally {
      for (const worker of workers) worker.kill('SIGKILL');
      await sql.end({ timeout: 1 });
      await database.drop();
    }
  },
};
