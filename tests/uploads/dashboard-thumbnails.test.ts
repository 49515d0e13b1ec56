// The records list in real headless Chromium shows thumbnails (not the full files) for images and videos.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type StartedServer, startServer } from '@mediaforge/api';
import { ApiKeyStore, createLogger, type Database, loadSettings, openDatabase } from '@mediaforge/core';
import { requireTool } from '@mediaforge/core/testing';
import { createFileStore } from '@mediaforge/storage';
import { type Browser, chromium } from 'playwright-core';
import { FIXTURES } from '../api/support.ts';

let database: Database;
let server: StartedServer;
let browser: Browser;
let key = '';

beforeAll(async () => {
  const executablePath = requireTool('/usr/bin/chromium');
  const home = mkdtempSync(join(tmpdir(), 'mediaforge-dash-thumbs-'));
  const settings = loadSettings({ env: { MEDIAFORGE_HOME: home, LOG_LEVEL: 'silent' } });
  database = await openDatabase();
  await database.migrate();
  const store = createFileStore({ root: join(home, 'objects') });
  server = startServer({ database, store, settings, logger: createLogger({ level: 'silent' }), port: 0 });
  key = (await new ApiKeyStore(database.db).create({ userId: 'viewer' })).key;
  browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
});
afterAll(async () => {
  await browser?.close();
  await server?.stop(true);
  await database?.close();
});

test('the records list shows each image and video by its thumbnail, decoded by the browser at ≤ 256 px', async () => {
  const base = server.url.origin;
  const uids: string[] = [];
  for (const [mediaType, name] of [
    ['image', 'fixture.jpg'],
    ['video', 'fixture.mp4'],
  ]) {
    const headers = { Authorization: `Bearer ${key}` };
    const made = await fetch(`${base}/v1/records`, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/json' },
      body: JSON.stringify({ mediaType }),
    });
    const { uid } = (await made.json()) as { uid: string };
    const upload = await fetch(`${base}/v1/records/${uid}/file`, {
      method: 'POST',
      headers,
      body: Bun.file(join(FIXTURES, name as string)),
    });
    expect(upload.status).toBe(201);
    uids.push(uid);
  }
  const page = await browser.newPage();
  await page.goto(`${base}/dashboard/login`);
  await page.fill('#key', key);
  await page.click('button[type=submit]');
  await page.waitForURL(`${base}/dashboard`);
  await page.goto(`${base}/dashboard/records`);
  for (const uid of uids) {
    const img = page.locator(`[data-record-uid="${uid}"] img`);
    expect(await img.getAttribute('src')).toBe(`/v1/records/${uid}/thumbnail`);
    await page.waitForFunction(
      (selector) => {
        const el = document.querySelector(selector) as HTMLImageElement | null;
        return el?.complete && el.naturalWidth > 0;
      },
      `[data-record-uid="${uid}"] img`,
      { timeout: 10_000 },
    );
    const size = await img.evaluate((el) => [
      (el as HTMLImageElement).naturalWidth,
      (el as HTMLImageElement).naturalHeight,
    ]);
    expect(Math.max(...size)).toBeLessThanOrEqual(256);
    expect(await page.locator(`[data-record-uid="${uid}"] video`).count()).toBe(0);
  }
  await page.close();
});
