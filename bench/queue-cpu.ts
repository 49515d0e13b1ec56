/**
 * CPU time per job of a queue's worker process and of the PostgreSQL backends it uses, for A/B decisions on a shared
 * machine (wall-clock rates move with the load; CPU per job much less). Not part of `bun run bench`:
 *
 *   bun bench/queue-cpu.ts [system=mediaforge] [jobs=20000] [concurrency=24]
 *
 * Bulk-inserts `jobs` no-op jobs, runs one `queue.child.ts work` process until none is left, and prints µs of CPU
 * (user + system) per job for the worker (from /proc, its whole life including start-up) and for the backends
 * connected to the database (read from /proc just before the worker stops).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestPostgres } from '@mediaforge/core/testing';
import postgres from 'postgres';
import { REMAINING, type System } from './queue.ts';

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
  const setup = Bun.spawn(['bun', CHILD, 'setup', system, database.url, String(jobs)], { stderr: 'inherit' });
  if ((await setup.exited) !== 0) throw new Error('setup failed');
  const name = new URL(database.url).pathname.slice(1);
  // QUEUE_CPU_PROF=<dir>: the worker writes a CPU profile there (`bun --cpu-prof`).
  const prof = process.env.QUEUE_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.QUEUE_CPU_PROF] : [];
  const worker = Bun.spawn(['bun', ...prof, CHILD, 'work', system, database.url, concurrencyArg], {
    stdout: 'pipe',
    stderr: 'inherit',
  });
  const started = performance.now();
  let workerCpu = 0;
  for (;;) {
    await Bun.sleep(50);
    workerCpu = cpuOf(worker.pid);
    const [row] = await sql.unsafe<{ n: number }[]>(REMAINING[system as System] ?? '');
    if (row?.n === 0) break;
  }
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
