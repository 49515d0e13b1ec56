/**
 * Webhooks delivered by worker processes on real PostgreSQL to a real loopback receiver that verifies every
 * signature: exactly one accepted delivery per task despite injected 500s and a worker SIGKILLed mid-request;
 * per-item events; bounded answers and deadlines; private targets refused unless allowed.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import {
  ALL_USERS,
  type Database,
  openDatabase,
  TaskManager,
  taskWebhookView,
  verifyWebhook,
  webhookDeliveries,
} from '@mediaforge/core';
import { createTestPostgres, skipPostgres, type TestPostgres } from '@mediaforge/core/testing';
import { eq } from 'drizzle-orm';
import { tempDir } from '../support/cli.ts';
import { spawnWorkerProcess } from '../support/origins.ts';
import { waitFor } from '../support/wait.ts';

const SECRET = 'receiver-secret-0123456789';

interface Seen {
  deliveryId: string;
  taskId: string;
  type: string;
  answered: number;
}

describe.skipIf(skipPostgres)('webhooks from worker processes on PostgreSQL', () => {
  let pg: TestPostgres;
  let database: Database;
  let manager: TaskManager;
  let origin: ReturnType<typeof Bun.serve>;
  let receiver: ReturnType<typeof Bun.serve>;
  let home: string;
  const children: ReturnType<typeof Bun.spawn>[] = [];
  const seen: Seen[] = [];
  let badSignatures = 0;
  /** Per delivery id: answers still to fail with 500 before a 200. */
  const failFirst = new Map<string, number>();
  let injected500s = 2;
  /** The next delivery is held open (no answer) until its connection closes. */
  let holdNext: ((deliveryId: string) => void) | undefined;

  beforeAll(async () => {
    pg = await createTestPostgres();
    database = await openDatabase({ url: pg.url });
    await database.migrate();
    manager = new TaskManager({
      database,
      settings: { maxBatchSize: 1000, allowHosts: [], maxFileSizeBytes: 1024 * 1024, taskTimeoutMinutes: 30 },
    });
    home = tempDir('mediaforge-webhooks-');
    origin = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch: (request) => new Response(`file ${new URL(request.url).pathname}\n`.repeat(20)),
    });
    receiver = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      async fetch(request) {
        const path = new URL(request.url).pathname;
        if (path === '/huge') return new Response('x'.repeat(20 * 1024 * 1024));
        if (path === '/slow') {
          await new Promise((resolve) => request.signal.addEventListener('abort', resolve));
          return new Response('late');
        }
        const body = await request.text();
        let event: ReturnType<typeof verifyWebhook>;
        try {
          event = verifyWebhook({ body, signature: request.headers.get('mediaforge-signature'), secret: SECRET });
        } catch {
          badSignatures += 1;
          return new Response('bad signature', { status: 401 });
        }
        expect(request.headers.get('mediaforge-delivery')).toBe(event.id);
        const record = (answered: number) => {
          seen.push({ deliveryId: event.id, taskId: event.taskId, type: event.type, answered });
          return answered;
        };
        if (holdNext) {
          const hold = holdNext;
          holdNext = undefined;
          hold(event.id);
          await new Promise((resolve) => request.signal.addEventListener('abort', resolve));
          return new Response('too late', { status: record(599) });
        }
        const left = failFirst.get(event.id) ?? injected500s;
        if (left > 0) {
          failFirst.set(event.id, left - 1);
          return new Response(`injected failure ${left}`, { status: record(500) });
        }
        return new Response('ok', { status: record(200) });
      },
    });
  });

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    origin?.stop(true);
    receiver?.stop(true);
    await database?.close();
    await pg?.drop();
  });

  const spawnWorker = () => {
    const child = spawnWorkerProcess(pg.url, home, ['--concurrency', '4', '--lease', '2', '--grace', '1'], {
      WEBHOOK_TIMEOUT_SECONDS: '2',
      WEBHOOK_RETRY_BASE_SECONDS: '0.2',
    });
    children.push(child);
    return child;
  };

  const hook = (path = '/hook', extra: { eachItem?: boolean } = {}) => ({
    url: `http://127.0.0.1:${receiver.port}${path}`,
    secret: SECRET,
    allowPrivate: true,
    ...extra,
  });
  const ingest = (count: number, webhook = hook()) =>
    manager.queueFileProcessing({
      urls: Array.from({ length: count }, (_, n) => `http://127.0.0.1:${origin.port}/f/${n}`),
      scope: ALL_USERS,
      options: { allowPrivate: true },
      webhook,
    });
  const deliveriesOf = (taskId: string) =>
    database.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.taskId, taskId));

  test('exactly one accepted delivery per task despite injected 500s and a SIGKILLed worker', async () => {
    const workers = [spawnWorker(), spawnWorker()];
    // The first delivery is held open; the worker sending it is killed mid-request.
    const held = new Promise<string>((resolve) => {
      holdNext = resolve;
    });
    const taskIds: string[] = [];
    for (let n = 0; n < 5; n++) taskIds.push(await ingest(3));
    const heldId = await waitFor(
      'a delivery to be held',
      async () => {
        const id = await Promise.race([held, Bun.sleep(100).then(() => undefined)]);
        return id;
      },
      60_000,
    );
    const [holder] = await database.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, heldId));
    const victim = workers.find((child) => holder?.lockedBy?.includes(`-${child.pid}-`));
    expect(victim).toBeDefined();
    victim?.kill('SIGKILL');
    await victim?.exited;
    spawnWorker();

    for (const taskId of taskIds) {
      await waitFor(
        `task ${taskId}'s webhook delivered`,
        async () =>
          (await deliveriesOf(taskId)).every((d) => d.status === 'succeeded') &&
          (await deliveriesOf(taskId)).length > 0,
        90_000,
      );
    }
    expect(badSignatures).toBe(0);
    for (const taskId of taskIds) {
      const accepted = seen.filter((s) => s.taskId === taskId && s.answered === 200);
      expect(accepted).toHaveLength(1);
      expect(accepted[0]?.type).toBe('task.finished');
      const [row] = await deliveriesOf(taskId);
      // Two injected 500s, then the 200 (plus the held attempt for the delivery whose worker was killed).
      expect(row?.attempts).toBe(row?.id === heldId ? 4 : 3);
      expect(row?.lastStatus).toBe(200);
      expect(row?.lastResponse).toBe('ok');
    }
    expect(seen.filter((s) => s.deliveryId === heldId).map((s) => s.answered)).toEqual([599, 500, 500, 200]);
    // The view users see (CLI, API, dashboard read it).
    const view = await taskWebhookView(database.db, taskIds[0] as string, ALL_USERS);
    expect(view?.deliveries[0]).toMatchObject({ status: 'succeeded', lastStatus: 200, event: 'task.finished' });
  }, 180_000);

  test('eachItem sends one item.finished per item and one task.finished, each accepted once', async () => {
    injected500s = 0;
    const taskId = await ingest(4, hook('/hook', { eachItem: true }));
    await waitFor(
      'five deliveries',
      async () => {
        const rows = await deliveriesOf(taskId);
        return rows.length === 5 && rows.every((d) => d.status === 'succeeded');
      },
      60_000,
    );
    const accepted = seen.filter((s) => s.taskId === taskId && s.answered === 200);
    expect(accepted.filter((s) => s.type === 'item.finished')).toHaveLength(4);
    expect(accepted.filter((s) => s.type === 'task.finished')).toHaveLength(1);
    expect(new Set(accepted.map((s) => s.deliveryId)).size).toBe(5);
  }, 90_000);

  test('a huge answer is cut at 1 KiB and a silent receiver is given up on at the deadline', async () => {
    const huge = await ingest(1, hook('/huge'));
    const slow = await ingest(1, hook('/slow'));
    const [hugeRow] = await waitFor(
      'the huge answer recorded',
      async () => {
        const rows = await deliveriesOf(huge);
        return rows[0]?.status === 'succeeded' && rows;
      },
      60_000,
    );
    expect(hugeRow?.lastResponse?.length).toBe(1024);
    const [slowRow] = await waitFor(
      'the slow receiver timed out',
      async () => {
        const rows = await deliveriesOf(slow);
        return rows[0]?.lastError ? rows : undefined;
      },
      60_000,
    );
    expect(slowRow?.lastError).toContain('within 2000 ms');
    expect(slowRow?.lastStatus).toBeNull();
  }, 90_000);

  test('a webhook to a private address is refused unless allowed; bad URLs and secrets are refused', async () => {
    const refused = ingest(1, { ...hook(), allowPrivate: false });
    await expect(refused).rejects.toMatchObject({ code: 'URL_NOT_ALLOWED' });
    const metadata = ingest(1, { url: 'http://169.254.169.254/latest', secret: SECRET, allowPrivate: false });
    await expect(metadata).rejects.toMatchObject({ code: 'URL_NOT_ALLOWED' });
    const long = ingest(1, { ...hook(`/${'a'.repeat(3000)}`) });
    await expect(long).rejects.toMatchObject({ code: 'INVALID_URL' });
    await expect(ingest(1, { ...hook(), secret: 'short' })).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    await expect(ingest(1, { ...hook(), url: 'file:///etc/passwd' })).rejects.toMatchObject({
      code: 'URL_NOT_ALLOWED',
    });
    // The core, not only the API, keeps private webhook addresses to admin scopes.
    const asUser = manager.queueFileProcessing({
      urls: [`http://127.0.0.1:${origin.port}/f/0`],
      scope: { userId: crypto.randomUUID() },
      options: { allowPrivate: true },
      webhook: hook(),
    });
    await expect(asUser).rejects.toMatchObject({ code: 'OPTION_NOT_ALLOWED' });
  });
});
