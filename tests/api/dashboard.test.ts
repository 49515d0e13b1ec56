// The dashboard in real headless Chromium (Debian's /usr/bin/chromium via playwright-core): sign in with a key,
// start an ingest and watch it reach 100%, cancel a task, open a record preview; a screenshot is kept for review.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { existsSync, mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type StartedServer, startServer } from '@mediaforge/api';
import {
  ALL_USERS,
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
import { type Browser, chromium, type Page } from 'playwright-core';
import { FIXTURES } from './support.ts';

const SCREENSHOTS = join(import.meta.dir, '../../.artifacts');

const origin = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  fetch: (request) => new Response(Bun.file(join(FIXTURES, new URL(request.url).pathname.slice(1)))),
});

let database: Database;
let server: StartedServer;
let worker: Awaited<ReturnType<typeof runWorker>>;
let browser: Browser;
let key = '';
let adminKey = '';
let tasks: TaskManager;

beforeAll(async () => {
  const executablePath = requireTool('/usr/bin/chromium');
  const home = mkdtempSync(join(tmpdir(), 'mediaforge-dashboard-'));
  const settings = loadSettings({ env: { MEDIAFORGE_HOME: home, MEDIAFORGE_ALLOW_HOSTS: '127.0.0.1' } });
  database = await openDatabase();
  await database.migrate();
  const store = createFileStore({ root: join(home, 'objects') });
  const logger = createLogger({ level: 'silent' });
  server = startServer({ database, store, settings, logger, port: 0, eventIntervalMs: 100 });
  worker = await runWorker({ settings, database, store, logger, signals: false, pollMs: 50 });
  key = (await new ApiKeyStore(database.db).create({ userId: 'viewer' })).key;
  adminKey = (await new ApiKeyStore(database.db).create({ userId: 'ops', admin: true })).key;
  tasks = new TaskManager({ database, settings });
  browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
});
afterAll(async () => {
  await browser?.close();
  await worker?.stop();
  await server?.stop(true);
  await database?.close();
  origin.stop(true);
});

test('sign in, ingest to 100%, cancel a task, preview a record', async () => {
  const page = await browser.newPage();
  const base = server.url.href.replace(/\/$/, '');
  await page.goto(`${base}/dashboard`);
  expect(page.url()).toEndWith('/dashboard/login');
  await page.fill('#key', 'mfk_000000000000_wrongwrongwrongwrongwrongwrongwrongwrongwro');
  await page.click('button[type=submit]');
  await page.waitForSelector('#login-error:has-text("invalid")');
  await page.fill('#key', key);
  await page.click('button[type=submit]');
  await page.waitForURL(`${base}/dashboard`);

  // Start an ingest from the form and watch the task page's progress reach 100% live.
  const urls = ['fixture.jpg', 'fixture.wav', 'fixture.txt'].map((name) => `http://127.0.0.1:${origin.port}/${name}`);
  await page.fill('#urls', urls.join('\n'));
  await page.click('#ingest button[type=submit]');
  await page.waitForURL(/\/dashboard\/tasks\//);
  await page.waitForSelector('#task [data-field="percent"]:has-text("100%")', { timeout: 30_000 });
  // The page reloads itself when the task finishes; until then it may list items as they were when it loaded.
  await page.waitForFunction(() => document.querySelectorAll('#items td.status.succeeded').length === 3, null, {
    timeout: 30_000,
  });
  expect(await page.locator('#items td.status.succeeded').count()).toBe(3);

  // A task no worker can take (another queue) is cancelled from the overview.
  const stuck = await tasks.queue.enqueue({ kind: 'noop', payloads: [{}, {}], userId: 'viewer', queue: 'nobody' });
  await page.goto(`${base}/dashboard`);
  await page.click(`button.cancel[data-task-id="${stuck}"]`);
  await page.waitForSelector(`tr[data-task-id="${stuck}"] [data-field="status"]:has-text("cancelled")`);
  expect((await tasks.getTaskStatus(stuck, ALL_USERS)).status).toBe('cancelled');

  // Two tasks made back to back share their UUIDv7 time prefix; the overview must still tell them apart.
  const pair = [
    await tasks.queue.enqueue({ kind: 'noop', payloads: [{}], userId: 'viewer', queue: 'nobody' }),
    await tasks.queue.enqueue({ kind: 'noop', payloads: [{}], userId: 'viewer', queue: 'nobody' }),
  ];
  await page.goto(`${base}/dashboard`);
  const shown: (string | null)[] = [];
  for (const id of pair) {
    const link = page.locator(`tr[data-task-id="${id}"] td:first-child a`);
    expect(await link.getAttribute('title')).toBe(id);
    shown.push(await link.textContent());
  }
  expect(shown[0]).not.toBe(shown[1]);

  // Records browser: the image shows, the audio is playable, the text has an excerpt.
  await page.goto(`${base}/dashboard/records`);
  const image = page.locator('[data-media-type="image"] img').first();
  await image.waitFor();
  await page.waitForFunction(() => {
    const img = document.querySelector<HTMLImageElement>('[data-media-type="image"] img');
    return img?.complete && img.naturalWidth > 0;
  });
  expect(await page.locator('[data-media-type="audio"] audio').count()).toBe(1);
  expect(await page.locator('[data-media-type="text"] pre').first().textContent()).not.toBe('');
  await page.locator('[data-media-type="audio"] a').first().click();
  await page.waitForSelector('#record-preview audio');
  const duration = await page.evaluate(async () => {
    const audio = document.querySelector('audio') as HTMLAudioElement;
    if (Number.isNaN(audio.duration) || audio.readyState < 1) {
      await new Promise((resolve) => audio.addEventListener('loadedmetadata', resolve, { once: true }));
    }
    return audio.duration;
  });
  expect(duration).toBeGreaterThan(0);
  // The record page shows what validation read, and the name the URL gave the file.
  const row = (label: string) => page.locator(`tr:has(th:text-is("${label}")) td`).textContent();
  expect(await row('original name')).toBe('fixture.wav');
  expect(await row('audio')).toBe('8000 Hz, 1 ch, 16-bit');
  expect(await row('media')).toBe('8kHz 1ch 1.0s');
  // The browser filters by duration and dimensions from its form, and keeps the filter in the page's inputs.
  await page.goto(`${base}/dashboard/records`);
  await page.fill('input[name="minDuration"]', '0.5');
  await page.click('form.filters button[type=submit]');
  await page.waitForURL(/minDuration=0.5/);
  const types = () =>
    page.locator('#records .preview').evaluateAll((els) => els.map((el) => el.getAttribute('data-media-type')));
  expect(await types()).toEqual(['audio']);
  expect(await page.inputValue('input[name="minDuration"]')).toBe('0.5');
  await page.goto(`${base}/dashboard/records?minWidth=10&minHeight=48`);
  expect(await types()).toEqual(['image']);

  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.goto(`${base}/dashboard`);
  await page.screenshot({ path: join(SCREENSHOTS, 'dashboard.png'), fullPage: true });
  expect(existsSync(join(SCREENSHOTS, 'dashboard.png'))).toBe(true);
  await page.close();
}, 90_000);

async function signIn(page: Page, base: string, apiKey: string): Promise<void> {
  await page.goto(`${base}/dashboard/login`);
  await page.fill('#key', apiKey);
  await page.click('button[type=submit]');
  await page.waitForURL(`${base}/dashboard`);
}

test('throughput charts: bars for a task that processed items, per worker for admins only', async () => {
  const base = server.url.href.replace(/\/$/, '');
  const urls = ['fixture.jpg', 'fixture.png', 'fixture.txt'].map((name) => `http://127.0.0.1:${origin.port}/${name}`);
  const taskId = await tasks.queueFileProcessing({ urls, scope: userScope('viewer') });
  for (let i = 0; i < 300 && !(await tasks.getTaskStatus(taskId, ALL_USERS)).ready; i++) await Bun.sleep(100);
  expect((await tasks.getTaskStatus(taskId, ALL_USERS)).successful).toBe(true);

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await signIn(page, base, key);
  await page.click('header a[href="/dashboard/throughput"]');
  await page.waitForURL(`${base}/dashboard/throughput`);
  const segments = (chart: string) => page.locator(`#${chart} svg rect.segment[data-series="${taskId}"]`);
  // Three items finished within the last hour: at least one bar, and its heights add up to something drawn.
  expect(await segments('by-task-items').count()).toBeGreaterThan(0);
  expect(await segments('by-task-bytes').count()).toBeGreaterThan(0);
  const drawn = await segments('by-task-items').evaluateAll((rects) =>
    rects.reduce((sum, rect) => sum + (rect as SVGRectElement).getBBox().height, 0),
  );
  expect(drawn).toBeGreaterThan(0);
  expect(await page.locator('#by-task-items svg rect.segment title').first().textContent()).toMatch(/\/s$/);
  expect(await page.locator(`#by-task-items .legend a[href="/dashboard/tasks/${taskId}"]`).count()).toBe(1);
  expect(await page.locator('#records-by-type svg rect.segment[data-series="image"]').count()).toBeGreaterThan(0);
  // Workers name hosts and pids: not for a user's key.
  expect(await page.locator('#by-worker-items').count()).toBe(0);

  const shots = mkdtempSync(join(tmpdir(), 'mediaforge-throughput-'));
  await page.screenshot({ path: join(shots, 'throughput.png'), fullPage: true });
  expect(statSync(join(shots, 'throughput.png')).size).toBeGreaterThan(0);

  // The task's own page charts just that task, over the window asked for.
  await page.goto(`${base}/dashboard/tasks/${taskId}?window=6h`);
  expect(
    await page.locator(`#task-throughput-items svg rect.segment[data-series="${taskId}"]`).count(),
  ).toBeGreaterThan(0);
  expect(await page.locator('p.windows strong').textContent()).toBe('6h');
  await page.close();

  const admin = await browser.newPage();
  await signIn(admin, base, adminKey);
  await admin.goto(`${base}/dashboard/throughput`);
  expect(await admin.locator('#by-worker-items svg rect.segment').count()).toBeGreaterThan(0);
  expect(await admin.locator('#by-worker-items .legend li').count()).toBeGreaterThan(0);
  await admin.close();
}, 90_000);
