/**
 * The database going away and coming back, on a PostgreSQL server of the suite's own: LISTEN resumes after a
 * restart and after its connection is killed, queries work again, and a worker process told to stop after a
 * restart exits instead of hanging (it used to: postgres.js re-subscribed its listener on close).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createLogger,
  type Database,
  loadSettings,
  openDatabase,
  rows,
  TaskManager,
  userScope,
} from '@mediaforge/core';
import { Worker } from '@mediaforge/worker';
import { sql } from 'drizzle-orm';
import { waitFor } from '../tests/support/wait.ts';
import { settle } from './lib/net.ts';
import { type DedicatedPostgres, startDedicatedPostgres } from './lib/postgres.ts';

const WORKER_MAIN = join(import.meta.dir, '../packages/worker/src/main.ts');
let pg: DedicatedPostgres;
let database: Database;
let home = '';

beforeAll(async () => {
  pg = await startDedicatedPostgres();
  database = await openDatabase({ url: pg.url });
  await database.migrate();
  home = mkdtempSync(join(tmpdir(), 'mediaforge-chaos-db-'));
}, 60_000);
afterAll(async () => {
  await settle('close the database', database?.close());
  await settle('destroy PostgreSQL', pg?.destroy());
  if (home) rmSync(home, { recursive: true, force: true });
}, 60_000);

async function notifiedWithin(channel: string, payloads: string[], ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    await database.db.execute(sql`select pg_notify(${channel}, 'ping')`).catch(() => {});
    if (payloads.length > 0) return true;
    await Bun.sleep(100);
  }
  return false;
}

test('LISTEN survives a server restart and a killed connection; unlisten and close still work', async () => {
  const payloads: string[] = [];
  const unlisten = await database.listen('chaos_channel', (payload) => payloads.push(payload));
  expect(await notifiedWithin('chaos_channel', payloads, 5000)).toBe(true);

  await pg.restart(500);
  payloads.length = 0;
  expect(await notifiedWithin('chaos_channel', payloads, 10_000)).toBe(true);

  expect(await pg.dropConnections()).toBeGreaterThan(0);
  payloads.length = 0;
  expect(await notifiedWithin('chaos_channel', payloads, 10_000)).toBe(true);

  await unlisten();
  payloads.length = 0;
  expect(await notifiedWithin('chaos_channel', payloads, 1000)).toBe(false);
}, 60_000);

test('a worker process stopped right after a PostgreSQL restart exits 0 promptly', async () => {
  for (const delayMs of [50, 700]) {
    const child = Bun.spawn([process.execPath, WORKER_MAIN, '--lease', '3'], {
      env: { ...process.env, DATABASE_URL: pg.url, MEDIAFORGE_HOME: home, LOG_LEVEL: 'warn' },
      stdout: 'ignore',
      stderr: 'ignore',
    });
    await Bun.sleep(1500);
    await pg.restart(500);
    await Bun.sleep(delayMs);
    child.kill('SIGTERM');
    const exit = await Promise.race([child.exited, Bun.sleep(15_000).then(() => 'hung' as const)]);
    if (exit === 'hung') child.kill('SIGKILL');
    expect(exit).toBe(0);
  }
}, 90_000);

test('a worker process told to stop while it is still starting exits 0 instead of dying by the signal', async () => {
  // Not earlier than ~100 ms: before Bun has run the first line no program can have a handler, and a loaded machine
  // takes that long to get there; the imports and the connection that follow take longer still.
  for (const delayMs of [120, 250, 500]) {
    const child = Bun.spawn([process.execPath, WORKER_MAIN], {
      env: { ...process.env, DATABASE_URL: pg.url, MEDIAFORGE_HOME: home, LOG_LEVEL: 'warn' },
      stdout: 'ignore',
      stderr: 'ignore',
    });
    await Bun.sleep(delayMs);
    child.kill('SIGTERM');
    const exit = await Promise.race([child.exited, Bun.sleep(15_000).then(() => 'hung' as const)]);
    if (exit === 'hung') child.kill('SIGKILL');
    expect({ delayMs, exit, signal: child.signalCode }).toEqual({ delayMs, exit: 0, signal: null });
  }
}, 60_000);

test('a worker started while PostgreSQL is down waits for it (--connect-timeout), or gives up with exit 1', async () => {
  await pg.stop();
  const patient = Bun.spawn([process.execPath, WORKER_MAIN, '--connect-timeout', '30'], {
    env: { ...process.env, DATABASE_URL: pg.url, MEDIAFORGE_HOME: home, LOG_LEVEL: 'warn' },
    stdout: 'ignore',
    stderr: 'pipe',
  });
  const impatient = Bun.spawn([process.execPath, WORKER_MAIN, '--connect-timeout', '1'], {
    env: { ...process.env, DATABASE_URL: pg.url, MEDIAFORGE_HOME: home, LOG_LEVEL: 'warn' },
    stdout: 'ignore',
    stderr: 'pipe',
  });
  try {
    expect(await impatient.exited).toBe(1);
    expect(await new Response(impatient.stderr).text()).toContain('Cannot reach PostgreSQL');
    await Bun.sleep(1500);
    expect(patient.exitCode).toBeNull();
  } finally {
    await pg.start();
  }
  // Up again: the patient worker registers itself, and stops cleanly when told to.
  const registered = await waitFor('the patient worker to register', async () => {
    const [row] = await rows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from workers where stopped_at is null`,
    ).catch(() => []);
    return row?.n;
  });
  expect(registered).toBeGreaterThan(0);
  patient.kill('SIGTERM');
  expect(await patient.exited).toBe(0);
  expect(await new Response(patient.stderr).text()).toContain('database unreachable; retrying');
}, 90_000);

test('a worker whose database restarts between connecting and registering retries and registers', async () => {
  // The worker's pool has connected (as after `--connect-timeout` succeeded); then the server goes away just as
  // start() makes its first write. Registration must wait for it instead of throwing (once: exit 1 in production).
  const own = await openDatabase({ url: pg.url });
  const worker = new Worker({
    database: own,
    logger: createLogger({ level: 'silent' }),
    handlers: {},
    queues: ['registration_retry'],
    leaseMs: 3000,
  });
  try {
    await rows(own.db, sql`select 1`);
    await pg.stop();
    const starting = worker.start().then(
      () => 'started' as const,
      (error: unknown) => error,
    );
    await Bun.sleep(1500);
    await pg.start();
    expect(await starting).toBe('started');
    const [row] = await rows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from workers where id = ${worker.id} and stopped_at is null`,
    );
    expect(row?.n).toBe(1);
  } finally {
    await settle('stop the worker', worker.stop({ graceMs: 0 }));
    await settle('close its database', own.close());
  }
}, 60_000);

test('a worker process told to stop while the database is down, holding running items, exits 0; leases bring them back', async () => {
  // An origin that holds every request until told to answer, then answers 404: the items stay running until then,
  // and end as final failures (outcomes to write) only once the database is down.
  const { promise: answer, resolve: release } = Promise.withResolvers<void>();
  const origin = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch: () => answer.then(() => new Response('gone', { status: 404 })),
  });
  const settings = loadSettings({
    env: { DATABASE_URL: pg.url, MEDIAFORGE_HOME: home, MEDIAFORGE_ALLOW_HOSTS: '127.0.0.1' },
  });
  const manager = new TaskManager({ database, settings });
  const urls = [1, 2, 3].map((n) => `http://127.0.0.1:${origin.port}/slow-${n}.wav`);
  const taskId = await manager.queueFileProcessing({
    urls,
    scope: userScope('drain'),
    queue: 'drain_test',
  });
  const child = Bun.spawn([process.execPath, WORKER_MAIN, '--queues', 'drain_test', '--lease', '3', '--grace', '1'], {
    env: {
      ...process.env,
      DATABASE_URL: pg.url,
      MEDIAFORGE_HOME: home,
      MEDIAFORGE_ALLOW_HOSTS: '127.0.0.1',
      DOWNLOAD_TIMEOUT_SECONDS: '120',
      LOG_LEVEL: 'warn',
    },
    stdout: 'ignore',
    stderr: 'pipe',
  });
  try {
    await waitFor('the items to run', async () => {
      const [row] = await rows<{ n: number }>(
        database.db,
        sql`select count(*)::int as n from task_items where task_id = ${taskId} and status = 'running'`,
      );
      return (row?.n ?? 0) >= 3 ? true : undefined;
    });
    await Bun.sleep(300);
    await pg.stop();
    // The items fail now, and their outcomes have nowhere to go: the drain's flush fails, and the stop must still
    // end with exit 0.
    release();
    child.kill('SIGTERM');
    const signalled = performance.now();
    const exit = await Promise.race([child.exited, Bun.sleep(30_000).then(() => 'hung' as const)]);
    if (exit === 'hung') child.kill('SIGKILL');
    expect(exit).toBe(0);
    // Bounded: grace (1 s), the outcome writer's retries (5 s), three last writes (2 s each), closing the pools.
    console.log(`[chaos] stopped with the database down in ${Math.round(performance.now() - signalled)} ms`);
    expect(performance.now() - signalled).toBeLessThan(20_000);
  } finally {
    await pg.start();
    origin.stop(true);
  }
  expect(await new Response(child.stderr).text()).not.toMatch(/unhandled|uncaught/i);
  // Nothing was lost: the items are still theirs to take back, with leases that have run out (any worker's reaper
  // requeues them; their hand-back could not be written while the database was down).
  const back = await waitFor('the leases to bring the items back', async () => {
    const [row] = await rows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from task_items where task_id = ${taskId} and status = 'running'
          and locked_until < now()`,
    ).catch(() => []);
    return row?.n === 3 ? true : undefined;
  });
  expect(back).toBe(true);
}, 90_000);
