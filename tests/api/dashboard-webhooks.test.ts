// The dashboard's failed-work views in real headless Chromium: a failed task shows its webhook deliveries and a
// retry button that turns it into a succeeded task once the origin recovers; the dead letters page lists the
// failed items of the signed-in user only.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type StartedServer, startServer } from '@mediaforge/api';
import {
  ApiKeyStore,
  createLogger,
  type Database,
  loadSettings,
  openDatabase,
  TaskManager,
  userScope,
} from '@mediaforge/core';
import { requireTool } from '@mediaforge/core/testing';
import { createFileStore } from '@mediaforge/storage';
import { runWorker } from '@mediaforge/worker';
import { type Browser, chromium } from 'playwright-core';
import { recoveringOrigin } from '../support/origins.ts';

const origin = recoveringOrigin();
const receiver = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('noted') });

let database: Database;
let server: StartedServer;
let worker: Awaited<ReturnType<typeof runWorker>>;
let browser: Browser;
let key = '';
let tasks: TaskManager;

beforeAll(async () => {
  const executablePath = requireTool('/usr/bin/chromium');
  const home = mkdtempSync(join(tmpdir(), 'mediaforge-dashboard-webhooks-'));
  const settings = loadSettings({
    env: { MEDIAFORGE_HOME: home, MEDIAFORGE_ALLOW_HOSTS: '127.0.0.1', WEBHOOK_RETRY_BASE_SECONDS: '0.1' },
  });
  database = await openDatabase();
  await database.migrate();
  const store = createFileStore({ root: join(home, 'objects') });
  const logger = createLogger({ level: 'silent' });
  server = startServer({ database, store, settings, logger, port: 0, eventIntervalMs: 100 });
  worker = await runWorker({ settings, database, store, logger, signals: false, pollMs: 50 });
  key = (await new ApiKeyStore(database.db).create({ userId: 'viewer' })).key;
  tasks = new TaskManager({ database, settings });
  browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
});
afterAll(async () => {
  await browser?.close();
  await worker?.stop();
  await server?.stop(true);
  await database?.close();
  origin.server.stop(true);
  receiver.stop(true);
});

test('a failed task: webhook deliveries shown, dead letters listed, retry from the page succeeds', async () => {
  const hook = { url: `http://127.0.0.1:${receiver.port}/hook`, secret: 'dashboard-secret-0123' };
  const url = origin.url;
  const taskId = await tasks.queueFileProcessing({
    urls: [url('a.txt'), url('b.txt')],
    scope: userScope('viewer'),
    maxAttempts: 1,
    webhook: hook,
  });
  const othersTask = await tasks.queueFileProcessing({
    urls: [url('secret-of-someone-else.txt')],
    scope: userScope('someone-else'),
    maxAttempts: 1,
  });
  for (const id of [taskId, othersTask]) {
    for (
      let i = 0;
      i < 400 && !(await tasks.getTask(id, userScope(id === taskId ? 'viewer' : 'someone-else'))).finishedAt;
      i++
    ) {
      await Bun.sleep(50);
    }
  }

  const page = await browser.newPage();
  const base = server.url.href.replace(/\/$/, '');
  await page.goto(`${base}/dashboard/login`);
  await page.fill('#key', key);
  await page.click('button[type=submit]');
  await page.waitForURL(`${base}/dashboard`);

  await page.click('header a[href="/dashboard/dead-letters"]');
  await page.waitForURL(`${base}/dashboard/dead-letters`);
  expect(await page.locator(`#dead-letters tr[data-task-id="${taskId}"]`).count()).toBe(2);
  expect(await page.locator(`#dead-letters tr[data-task-id="${othersTask}"]`).count()).toBe(0);
  expect(await page.locator('#dead-letters').textContent()).toContain('DOWNLOAD_HTTP_STATUS');

  await page.goto(`${base}/dashboard/tasks/${taskId}`);
  await page.waitForSelector('#webhook-deliveries td.status.succeeded', { timeout: 20_000 }).catch(async () => {
    await page.reload();
    await page.waitForSelector('#webhook-deliveries td.status.succeeded', { timeout: 20_000 });
  });
  expect(await page.locator('#webhook-deliveries').textContent()).toContain('noted');

  origin.recover();
  // The button posts the retry, then reloads the page.
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('button.retry')]);
  for (let i = 0; i < 400 && (await tasks.getTaskStatus(taskId, userScope('viewer'))).status !== 'succeeded'; i++) {
    await Bun.sleep(50);
  }
  expect((await tasks.getTaskStatus(taskId, userScope('viewer'))).status).toBe('succeeded');
  // The second finish is told too: two deliveries listed after a reload.
  for (let i = 0; i < 100; i++) {
    await page.reload();
    if ((await page.locator('#webhook-deliveries td.status.succeeded').count()) === 2) break;
    await Bun.sleep(100);
  }
  expect(await page.locator('#webhook-deliveries td.status.succeeded').count()).toBe(2);
  expect(await page.locator('button.retry').count()).toBe(0);
}, 90_000);
