/**
 * CPU time per job of a queue's worker process and of the PostgreSQL backends it uses, for A/B decisions on a shared
 * machine (wall-clock rates move with the load; CPU per job much less). Not part of `bun run bench`:
 *
 *   bun bench/queue-cpu.ts [system=mediaforge] [jobs=20000] [concurrency=24]
 *
 * Bulk-inserts `jobs` no-op jobs, runs one `queue.child.ts work` process until none is left, and prints µs of CPU
 * (user + system) per job for the worker (from /proc, its whole life including start-up) and for the backends
 * connected to the database (read from /proc just before the worker stops). For profiles, to stderr:
 *   QUEUE_CPU_PROF=<dir>     the worker's JavaScript CPU profile (`bun --cpu-prof`)
 *   QUEUE_CPU_THREADS=1      the worker's CPU seconds per thread (JIT, GC and the main thread apart)
 *   QUEUE_CPU_STATS=1        index and table buffer hits, and pg_stat_statements' top statements with their planning
 *                            (needs pg_stat_statements in the server's shared_preload_libraries)
 *   QUEUE_CPU_EXPLAIN=<rate> EXPLAIN ANALYZE of that share of the workers' statements, in the server's log
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestPostgres } from '@mediaforge/core/testing';
import postgres from 'postgres';
import { REMAINING, type System } from './queue.ts';
import { drained, watch } from './queue-progress.ts';

const [system = 'mediaforge', jobsArg = '20000', concurrencyArg = '24'] = process.argv.slice(2);
const jobs = Number(jobsArg);
const CHILD = join(import.meta.dir, 'queue.child.ts');
const TICKS = 100; // USER_HZ

/** utime + stime of a process and its reaped children, in seconds. */
function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  // After "pid (comm) ": state is field 0, utime 11, stime 12, cutime 13, cstime 14.
  return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0) / TICKS;
}

const database = await createTestPostgres();
const sql = postgres(database.url, { max: 1, onnotice: () => {} });
try {
  if (process.env.QUEUE_CPU_EXPLAIN) {
    // QUEUE_CPU_EXPLAIN=<rate>: the server log gets EXPLAIN ANALYZE of that share of the workers' statements.
    const db = new URL(database.url).pathname.slice(1);
    await sql.unsafe(`alter database "${db}" set session_preload_libraries = 'auto_explain'`);
    for (const [key, value] of Object.entries({
      log_min_duration: '0',
      log_analyze: 'on',
      log_buffers: 'on',
      log_nested_statements: 'on',
      sample_rate: process.env.QUEUE_CPU_EXPLAIN,
    }))
      await sql.unsafe(`alter database "${db}" set auto_explain.${key} = '${value}'`);
  }
  if (process.env.QUEUE_CPU_STATS) {
    // Needs pg_stat_statements in shared_preload_libraries; the setup's statements are reset below.
    await sql.unsafe('create extension if not exists pg_stat_statements');
    await sql.unsafe(
      `alter database "${new URL(database.url).pathname.slice(1)}" set pg_stat_statements.track_planning = on`,
    );
  }
  const setup = Bun.spawn(['bun', CHILD, 'setup', system, database.url, String(jobs)], { stderr: 'inherit' });
  if ((await setup.exited) !== 0) throw new Error('setup failed');
  const name = new URL(database.url).pathname.slice(1);
  // QUEUE_CPU_PROF=<dir>: the worker writes a CPU profile there (`bun --cpu-prof`).
  const prof = process.env.QUEUE_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.QUEUE_CPU_PROF] : [];
  if (process.env.QUEUE_CPU_STATS) await sql.unsafe('select pg_stat_statements_reset()');
  const watched = watch(
    Bun.spawn(['bun', ...prof, CHILD, 'work', system, database.url, concurrencyArg], {
      stdout: 'pipe',
      stderr: 'inherit',
    }),
  );
  const worker = watched.proc;
  const started = performance.now();
  const remaining = async () => (await sql.unsafe<{ n: number }[]>(REMAINING[system as System] ?? ''))[0]?.n ?? -1;
  await drained([watched], jobs, remaining, Date.now() + 15 * 60_000);
  const workerCpu = cpuOf(worker.pid);
  const wall = (performance.now() - started) / 1000;
  const backends = await sql<{ pid: number }[]>`
    select pid from pg_stat_activity where datname = ${name} and pid <> pg_backend_pid()`;
  const backendCpu = backends.reduce((sum, { pid }) => {
    try {
      return sum + cpuOf(pid);
    } catch {
      return sum;
    }
  }, 0);
  if (process.env.QUEUE_CPU_STATS) {
    const stats = await sql.unsafe(`select s.indexrelname as index, s.idx_scan as scans, io.idx_blks_hit as hits,
      s.idx_tup_read as tup_read, s.idx_tup_fetch as tup_fetch
      from pg_stat_user_indexes s join pg_statio_user_indexes io using (indexrelid) order by io.idx_blks_hit desc`);
    console.error(stats.map((r) => JSON.stringify(r)).join('\n'));
    const tables =
      await sql.unsafe(`select relname as table_name, seq_scan, seq_tup_read, n_tup_upd, n_tup_hot_upd, heap_blks_hit
      from pg_stat_user_tables t join pg_statio_user_tables io using (relid, relname) order by heap_blks_hit desc limit 6`);
    console.error(tables.map((r) => JSON.stringify(r)).join('\n'));
    const statements = await sql.unsafe(`select calls, round(total_exec_time)::int as exec_ms,
      round(total_plan_time)::int as plan_ms, plans, rows, left(regexp_replace(query, '\\s+', ' ', 'g'), 90) as query
      from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())
      order by total_exec_time + total_plan_time desc limit 15`);
    console.error(statements.map((r) => JSON.stringify(r)).join('\n'));
  }
  if (process.env.QUEUE_CPU_THREADS) {
    const { readdirSync } = await import('node:fs');
    const byName = new Map<string, number>();
    for (const tid of readdirSync(`/proc/${worker.pid}/task`)) {
      const stat = readFileSync(`/proc/${worker.pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/[0-9]+$/, '#');
      const f = stat.split(') ')[1]?.split(' ') ?? [];
      byName.set(name, (byName.get(name) ?? 0) + (Number(f[11]) + Number(f[12])) / TICKS);
    }
    console.error(JSON.stringify(Object.fromEntries(byName)));
  }
  worker.kill('SIGTERM');
  await worker.exited;
  // Transactions (each statement outside one is its own) per job; the counters reach the view within ~1 s.
  await Bun.sleep(1500);
  const [xacts] = await sql<{ n: string }[]>`
    select xact_commit + xact_rollback as n from pg_stat_database where datname = ${name}`;
  const us = (seconds: number) => Math.round((seconds / jobs) * 1e6);
  console.log(
    JSON.stringify({
      system,
      jobs,
      wallSeconds: Number(wall.toFixed(1)),
      workerUsPerJob: us(workerCpu),
      backendUsPerJob: us(backendCpu),
      backends: backends.length,
      transactionsPerJob: Number((Number(xacts?.n ?? 0) / jobs).toFixed(3)),
    }),
  );
} finally {
  await sql.end({ timeout: 1 });
  await database.drop();
}
