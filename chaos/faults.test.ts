/**
 * Faults: ingest tasks run through three worker processes while the origin, the object store, the database and the
 * workers themselves misbehave; afterwards every invariant of "nothing lost, nothing duplicated" is checked against
 * the database, the S3 server (read directly, not through the faulty proxy) and the origin's own checksums. Every
 * task names a webhook whose receiver answers 500 to a share of deliveries: each task must be told exactly once.
 *
 * Everything is real: a PostgreSQL server of the suite's own (restarted mid-run), s3rver behind a fault-injecting
 * proxy, a raw-TCP origin, and `mediaforge-worker` processes killed with SIGKILL and SIGTERM.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSettings, openDatabase, TaskManager, userScope } from '@mediaforge/core';
import { type ObjectStore, openObjectStore } from '@mediaforge/storage';
import { startS3Server, type TestS3Server } from '@mediaforge/storage/testing';
import postgres from 'postgres';
import { objectsWithoutRecord, sha256Of, sweepAfterGrace, tryQuery } from './lib/fault-checks.ts';
import { WorkerFleet } from './lib/fleet.ts';
import { seededRandom, settle, Tally } from './lib/net.ts';
import {
  BAD_KINDS,
  type BadKind,
  type FaultOrigin,
  type OriginFile,
  startFaultOrigin,
  synthesizeFile,
} from './lib/origin.ts';
import { type DedicatedPostgres, startDedicatedPostgres } from './lib/postgres.ts';
import { type S3FaultProxy, startS3FaultProxy } from './lib/s3-proxy.ts';
import { FULL, saveResults } from './lib/scale.ts';
import { checkChaosSchedule, startChaosSchedule } from './lib/schedule-check.ts';
import { deliveriesSettled, startWebhookReceiver, type WebhookReceiver } from './lib/webhook-receiver.ts';

const TASKS = FULL ? 10 : 3;
const ITEMS = FULL ? 200 : 40;
/** Every 10th item is a URL that fails for good, one kind after another. */
const BAD_EVERY = 10;
const DEADLINE_MS = FULL ? 20 * 60_000 : 4 * 60_000;
const MiB = 1024 * 1024;

let work = '';
let pg: DedicatedPostgres;
let s3: TestS3Server;
let proxy: S3FaultProxy;
let origin: FaultOrigin;
let fleet: WorkerFleet;
let direct: ObjectStore;
let sql: postgres.Sql;
let receiver: WebhookReceiver;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'mediaforge-chaos-'));
  pg = await startDedicatedPostgres();
  const database = await openDatabase({ url: pg.url });
  await database.migrate();
  await database.close();
  s3 = await startS3Server({ bucket: 'chaos' });
  proxy = await startS3FaultProxy(s3.endpoint, { seed: 7, faultRate: 0 });
  direct = openObjectStore(loadSettings({ env: { ...s3.env, MEDIAFORGE_HOME: work } }));
  sql = postgres(pg.url, { max: 2, onnotice: () => {} });
}, 120_000);

afterAll(async () => {
  await settle('stop workers', fleet?.stopAll(), 30_000);
  origin?.close();
  receiver?.close();
  await settle('close the S3 proxy', proxy?.close());
  await settle('close s3rver', s3?.close());
  await settle('close the verification connection', sql?.end({ timeout: 1 }));
  await settle('destroy PostgreSQL', pg?.destroy());
  // CHAOS_KEEP=1 keeps the worker logs and the S3 data for a look after a failure.
  if (work && process.env.CHAOS_KEEP !== '1') rmSync(work, { recursive: true, force: true });
  else if (work) console.error(`[chaos] kept ${work}`);
});

/** The files of one task: mostly small WAVs and texts, one WAV big enough for a multipart upload. */
async function makeFiles(task: number, files: Map<string, OriginFile>): Promise<string[]> {
  const random = seededRandom(1000 + task);
  const names: string[] = [];
  for (let item = 0; item < ITEMS; item++) {
    const kind = item % 3 === 0 ? 'text' : 'wav';
    const size = item === 1 ? 6 * MiB : 2048 + Math.floor(random() * 40 * 1024);
    const name = `t${task}-i${item}.${kind === 'wav' ? 'wav' : 'txt'}`;
    files.set(name, await synthesizeFile(kind, size, task * 10_000 + item));
    names.push(name);
  }
  return names;
}

const badKinds = Object.keys(BAD_KINDS) as BadKind[];
function urlFor(base: string, name: string, item: number): { url: string; bad?: BadKind } {
  if (item % BAD_EVERY !== BAD_EVERY - 1) return { url: `${base}/f/${name}` };
  const bad = badKinds[Math.floor(item / BAD_EVERY) % badKinds.length] as BadKind;
  return { url: `${base}/bad/${bad}/${name}`, bad };
}

type TaskRow = { id: string; status: string; total: number; succeeded: number; failed: number; cancelled: number };

/** Polls until `count` tasks exist and all are terminal (and `alsoDone` holds), or the deadline; tolerates outages. */
async function waitForTasks(count: number, started: number, alsoDone = () => true): Promise<TaskRow[]> {
  let tasks: TaskRow[] = [];
  let lastReport = 0;
  while (performance.now() - started < DEADLINE_MS) {
    await Bun.sleep(500);
    tasks =
      (await tryQuery(() => sql<TaskRow[]>`select id, status, total, succeeded, failed, cancelled from tasks`)) ??
      tasks;
    const seconds = Math.floor((performance.now() - started) / 1000);
    if (Math.floor(seconds / 10) !== lastReport) {
      lastReport = Math.floor(seconds / 10);
      const done = tasks.reduce((sum, task) => sum + task.succeeded + task.failed, 0);
      const total = tasks.reduce((sum, task) => sum + task.total, 0);
      console.error(`[chaos] ${seconds} s: ${done}/${total} items done`);
    }
    const terminal = tasks.every((task) => ['succeeded', 'failed', 'cancelled'].includes(task.status));
    if (alsoDone() && tasks.length === count && terminal) break;
  }
  return tasks;
}

test(
  `${TASKS} tasks × ${ITEMS} items through origin, storage, database and worker faults: nothing lost, nothing duplicated`,
  async () => {
    const files = new Map<string, OriginFile>();
    const names: string[][] = [];
    // Task TASKS is the baseline: the same kind of work with no faults, for the items/s the faults are measured against.
    for (let task = 0; task <= TASKS; task++) names.push(await makeFiles(task, files));
    origin = startFaultOrigin(files, {
      seed: 11,
      faultRate: 0,
      stallMs: 4000,
      truncated: await synthesizeFile('wav', 20_000, 99),
    });

    const workerEnv = {
      ...s3.env,
      S3_ENDPOINT: proxy.endpoint,
      S3_PART_SIZE_MB: '5',
      DATABASE_URL: pg.url,
      MEDIAFORGE_HOME: join(work, 'home'),
      MEDIAFORGE_ALLOW_HOSTS: '127.0.0.1',
      DOWNLOAD_TIMEOUT_SECONDS: '1.5',
      DOWNLOAD_RETRIES: '2',
      TASK_RETRY_BASE_SECONDS: '0.5',
      TASK_RETRY_MAX_SECONDS: '4',
      WEBHOOK_RETRY_BASE_SECONDS: '0.5',
      WEBHOOK_TIMEOUT_SECONDS: '3',
      LOG_LEVEL: process.env.CHAOS_LOG_LEVEL ?? 'warn',
    };
    fleet = new WorkerFleet({
      size: 3,
      env: workerEnv,
      args: ['--concurrency', '6', '--lease', '3', '--grace', '2'],
      logDir: work,
    });

    // Tasks are queued through the library, as an application would.
    const enqueuer = await openDatabase({ url: pg.url });
    const manager = new TaskManager({
      database: enqueuer,
      settings: loadSettings({ env: { ...workerEnv, MEDIAFORGE_HOME: work } }),
    });
    const expected = new Map<string, { name: string; bad?: BadKind }>();
    receiver = startWebhookReceiver({ seed: 31, faultRate: 0 });
    const enqueue = async (task: number) => {
      const urls = (names[task] ?? []).map((name, item) => {
        const { url, bad } = urlFor(origin.base, name, item);
        expected.set(url, { name, ...(bad ? { bad } : {}) });
        return url;
      });
      await manager.queueFileProcessing({
        urls,
        scope: userScope('chaos'),
        maxAttempts: 10,
        webhook: { url: receiver.url, secret: receiver.secret },
      });
    };

    // The baseline: one task, no faults.
    await enqueue(TASKS);
    const baselineStarted = performance.now();
    fleet.startAll();
    await waitForTasks(1, baselineStarted);
    const baselineSeconds = (performance.now() - baselineStarted) / 1000;

    // Then everything else, with every fault turned on, and a schedule firing every second throughout.
    const schedule = await startChaosSchedule(pg.url);
    for (let task = 0; task < TASKS; task++) await enqueue(task);
    await enqueuer.close();
    origin.setFaultRate(0.3);
    proxy.setFaultRate(0.15);
    receiver.setFaultRate(0.3);
    const started = performance.now();
    const infra = new Tally();
    let finished = false;
    // Every kind of fault early, so even a short run sees them all while items are in flight; then at random.
    const script = ['kill', 'pg-restart', 'term', 's3-outage', 'drop-connections', 'kill'];
    let scripted = 0;
    const chaos = (async () => {
      const random = seededRandom(23);
      while (!finished) {
        await Bun.sleep(scripted < script.length ? 500 + random() * 700 : 800 + random() * 1600);
        if (finished) break;
        const choices = ['kill', 'kill', 'term', 'pg-restart', 'drop-connections', 's3-outage'];
        const event = script[scripted] ?? choices[Math.floor(random() * choices.length)];
        const slot = Math.floor(random() * fleet.size);
        if (event === 'kill') await fleet.kill(slot);
        else if (event === 'term') await fleet.terminate(slot);
        else if (event === 'pg-restart') {
          infra.add('PostgreSQL restart (immediate stop)');
          await pg.restart(800);
        } else if (event === 'drop-connections') {
          infra.add('database connections terminated');
          infra.add('database connections cut', (await tryQuery(() => pg.dropConnections())) ?? 0);
        } else if (event === 's3-outage') await proxy.outage(1500);
        scripted += 1;
      }
    })();

    let tasks = await waitForTasks(TASKS + 1, started, () => scripted >= script.length);
    const elapsedSeconds = (performance.now() - started) / 1000;
    finished = true;
    await chaos;
    origin.setFaultRate(0);
    proxy.setFaultRate(0);
    // Deliveries still retrying (the receiver keeps failing a share) finish on the surviving workers.
    await deliveriesSettled(sql, 90_000);
    const scheduled = await checkChaosSchedule(sql, schedule);
    await fleet.stopAll();

    // ---- Invariants ----
    type ItemRow = {
      task_id: string;
      seq: number;
      status: string;
      payload: { url: string; uid: string };
      result: { recordUid?: string; storageKey?: string; sha256?: string } | null;
      error_code: string | null;
      error_message: string | null;
      attempts: number;
    };
    const items = await sql<
      ItemRow[]
    >`select task_id, seq, status, payload, result, error_code, error_message, attempts from task_items`;
    const records = await sql<{ uid: string; storage_key: string | null; sha256: string | null; source_url: string }[]>`
      select uid, storage_key, sha256, source_url from records`;
    tasks = await sql<TaskRow[]>`select id, status, total, succeeded, failed, cancelled from tasks`;

    const problems: string[] = [];
    const byUid = new Map(records.map((record) => [record.uid, record]));
    const recordsPerUrl = new Tally();
    for (const record of records) recordsPerUrl.add(record.source_url);
    const failedCodes = new Tally();
    let succeeded = 0;
    let retried = 0;
    const checked: Promise<void>[] = [];
    for (const item of items) {
      const where = `task ${item.task_id} item ${item.seq} (${item.payload.url})`;
      const want = expected.get(item.payload.url);
      if (item.attempts > 1) retried += 1;
      if (!['succeeded', 'failed'].includes(item.status)) problems.push(`${where}: not terminal (${item.status})`);
      if (item.status === 'failed') {
        failedCodes.add(item.error_code ?? 'none');
        if (!want?.bad) problems.push(`${where}: a good file failed with ${item.error_code}: ${item.error_message}`);
        else if (item.error_code !== BAD_KINDS[want.bad]) {
          problems.push(`${where}: failed with ${item.error_code}, expected ${BAD_KINDS[want.bad]}`);
        }
      }
      if (item.status !== 'succeeded') continue;
      succeeded += 1;
      if (want?.bad) problems.push(`${where}: a bad URL succeeded`);
      const record = byUid.get(item.payload.uid);
      const file = want ? files.get(want.name) : undefined;
      if (!record || !file) {
        problems.push(`${where}: succeeded without its record`);
        continue;
      }
      if (item.result?.recordUid !== item.payload.uid) problems.push(`${where}: result names another record`);
      if (record.sha256 !== file.sha256) problems.push(`${where}: record sha256 differs from the origin's`);
      const key = record.storage_key ?? '';
      checked.push(
        direct.get(key).then(async (object) => {
          if (!object) problems.push(`${where}: object ${key} missing`);
          else if ((await sha256Of(object.body)) !== file.sha256) problems.push(`${where}: object bytes differ`);
        }),
      );
    }
    await Promise.all(checked);
    for (const [url, count] of Object.entries(recordsPerUrl.counts)) {
      if (count > 1) problems.push(`${count} records for ${url}`);
    }
    if (records.length !== succeeded) problems.push(`${records.length} records for ${succeeded} succeeded items`);
    // Objects without a record, listed from the S3 server itself. Keys are write-once, so a worker killed between
    // its put and its commit leaves its object until the maintenance sweep: count them, sweep (as maintenance would
    // once its grace has passed), and count again — after the sweep there must be none.
    const keys = new Set(records.map((record) => record.storage_key));
    const unreferencedBeforeSweep = await objectsWithoutRecord(direct, keys);
    const { removed: removedBySweep } = await sweepAfterGrace(sql, pg.url, direct);
    const orphans = await objectsWithoutRecord(direct, keys);
    // Task counters against the item table.
    for (const task of tasks) {
      const own = items.filter((item) => item.task_id === task.id);
      const count = (status: string) => own.filter((item) => item.status === status).length;
      if (task.succeeded !== count('succeeded') || task.failed !== count('failed') || task.total !== own.length) {
        problems.push(`task ${task.id}: counters ${task.succeeded}/${task.failed}/${task.total} disagree with items`);
      }
      if (task.status !== (count('failed') > 0 ? 'failed' : 'succeeded')) {
        problems.push(`task ${task.id}: status ${task.status}`);
      }
    }
    // Webhooks: one delivery per task, succeeded, and exactly one event accepted per task (the same delivery id may
    // be accepted again when a worker died after the 2xx and before recording it: receivers dedupe by that id).
    const deliveries = await sql<{ task_id: string; id: string; status: string; attempts: number }[]>`
      select task_id, id, status, attempts from webhook_deliveries`;
    for (const task of tasks) {
      const own = deliveries.filter((delivery) => delivery.task_id === task.id);
      if (own.length !== 1 || own[0]?.status !== 'succeeded') {
        problems.push(`task ${task.id}: webhook deliveries ${JSON.stringify(own.map((d) => d.status))}`);
      }
      const ids = receiver.acceptedIdsByTask.get(task.id)?.size ?? 0;
      if (ids !== 1) problems.push(`task ${task.id}: ${ids} distinct webhook events accepted`);
    }
    if (receiver.faults.counts['bad signature']) problems.push('webhook signatures refused by the receiver');
    const unexpectedExits = fleet.unexpectedExits();
    const crashes = readdirSync(work)
      .filter((name) => name.startsWith('worker-'))
      .filter((name) => /uncaught|unhandled|panic/i.test(readFileSync(join(work, name), 'utf8')));

    const results = {
      scale: { tasks: TASKS, itemsPerTask: ITEMS, workers: fleet.size, concurrencyPerWorker: 6 },
      elapsedSeconds: Number(elapsedSeconds.toFixed(1)),
      itemsPerSecond: Number(((TASKS * ITEMS) / elapsedSeconds).toFixed(1)),
      baseline: {
        items: ITEMS,
        seconds: Number(baselineSeconds.toFixed(1)),
        itemsPerSecond: Number((ITEMS / baselineSeconds).toFixed(1)),
      },
      items: items.length,
      succeeded,
      failed: items.length - succeeded,
      failedByCode: failedCodes.counts,
      itemsRetried: retried,
      lost: items.filter((item) => !['succeeded', 'failed'].includes(item.status)).length,
      duplicated: Object.values(recordsPerUrl.counts).filter((count) => count > 1).length,
      unreferencedBeforeSweep: unreferencedBeforeSweep.length,
      removedBySweep,
      orphanObjects: orphans.length,
      webhooks: {
        deliveries: deliveries.length,
        attempts: deliveries.reduce((sum, delivery) => sum + delivery.attempts, 0),
        accepted: receiver.accepted.total,
        redeliveriesOfAcceptedEvents: receiver.accepted.total - Object.keys(receiver.accepted.counts).length,
        receiverFaults: receiver.faults.counts,
      },
      injected: {
        origin: origin.faults.counts,
        storage: proxy.faults.counts,
        database: infra.counts,
        workers: fleet.events.counts,
      },
      originRequests: origin.requests.counts,
      storageRequests: proxy.requests.counts,
      workerExits: fleet.exits,
      schedule: scheduled,
      problems,
    };
    await saveResults('faults', results);
    if (orphans.length > 0) problems.push(`objects without a record: ${orphans.join(', ')}`);
    console.log(JSON.stringify({ ...results, problems: problems.slice(0, 20) }, null, 2));

    expect(problems).toEqual([]);
    expect(scheduled.problems).toEqual([]);
    expect(orphans).toEqual([]);
    expect(unexpectedExits).toEqual([]);
    expect(crashes).toEqual([]);
    expect(items.length).toBe((TASKS + 1) * ITEMS);
    // Every kind of fault was injected at least once.
    expect(origin.faults.total).toBeGreaterThan(0);
    expect(Object.keys(proxy.faults.counts)).toContain('connections refused (outage)');
    expect(infra.counts['PostgreSQL restart (immediate stop)']).toBeGreaterThan(0);
    expect(fleet.events.counts.SIGKILL).toBeGreaterThan(0);
    expect(fleet.events.counts.SIGTERM).toBeGreaterThan(0);
    expect(receiver.faults.counts['500 injected']).toBeGreaterThan(0);
  },
  DEADLINE_MS + 120_000,
);
