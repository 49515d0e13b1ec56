import { afterAll, beforeAll, expect, test } from 'bun:test';
import { join } from 'node:path';
import type { AppType } from '@mediaforge/api';
import { describeBackends } from '@mediaforge/core/testing';
import { runWorker } from '@mediaforge/worker';
import { validate } from '@readme/openapi-parser';
import { hc } from 'hono/client';
import { createTestApi, errorOf, FIXTURES, type TestApi } from './support.ts';

// A real loopback origin; the API is configured to allow it (MEDIAFORGE_ALLOW_HOSTS), nothing else private.
let slowGate: () => void = () => {};
const origin = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path.startsWith('/slow/')) {
      await new Promise<void>((resolve) => {
        slowGate = resolve;
        setTimeout(resolve, 20_000);
      });
    }
    const file = Bun.file(join(FIXTURES, path.split('/').pop() ?? ''));
    return (await file.exists()) ? new Response(file) : new Response('missing', { status: 404 });
  },
});
const at = (name: string) => `http://127.0.0.1:${origin.port}/${name}`;
afterAll(() => origin.stop(true));

interface Task {
  taskId: string;
  status: string;
  progress: { percent: number; succeeded: number; failed: number; total: number };
  result: { processedFileIds: string[] } | null;
}

describeBackends('API tasks, events, workers, metrics', (backend) => {
  let api: TestApi;
  let worker: Awaited<ReturnType<typeof runWorker>>;
  beforeAll(async () => {
    api = await createTestApi(backend.database(), { MEDIAFORGE_ALLOW_HOSTS: '127.0.0.1' });
    worker = await runWorker({
      settings: api.settings,
      database: backend.database(),
      store: api.store,
      signals: false,
      concurrency: 4,
      pollMs: 50,
      logger: (await import('@mediaforge/core')).createLogger({ level: 'silent' }),
    });
  });
  afterAll(async () => {
    slowGate();
    await worker.stop();
    api.close();
  });

  const waitFor = async (taskId: string, done: (task: Task) => boolean) => {
    for (let i = 0; i < 400; i += 1) {
      const task = (await (await api.call('GET', `/v1/tasks/${taskId}`)).json()) as Task;
      if (done(task)) return task;
      await Bun.sleep(50);
    }
    throw new Error(`task ${taskId} did not get there`);
  };

  test('ingest: 202 with Location, SSE progress to done, records made, other users see nothing', async () => {
    const urls = ['fixture.jpg', 'fixture.wav', 'fixture.txt', 'missing.mp3'].map(at);
    const queued = await api.call('POST', '/v1/ingest', { json: { urls, generationId: 'gen-1' } });
    expect(queued.status).toBe(202);
    const { taskId, location } = (await queued.json()) as { taskId: string; location: string };
    expect(queued.headers.get('location')).toBe(`/v1/tasks/${taskId}`);
    expect(location).toBe(`/v1/tasks/${taskId}`);

    const events = await api.call('GET', `/v1/tasks/${taskId}/events`);
    expect(events.headers.get('content-type')).toContain('text/event-stream');
    const text = await events.text();
    const parsed = [...text.matchAll(/event: (\w+)\ndata: (.*)\n/g)].map((m) => ({
      event: m[1],
      data: JSON.parse(m[2] as string) as Task,
    }));
    const done = parsed.at(-1);
    expect(done?.event).toBe('done');
    expect(done?.data.progress).toMatchObject({ percent: 100, succeeded: 3, failed: 1, total: 4 });
    expect(done?.data.result?.processedFileIds).toHaveLength(3);
    expect(parsed.slice(0, -1).every((event) => event.event === 'progress')).toBe(true);

    const items = (await (await api.call('GET', `/v1/tasks/${taskId}/items`)).json()) as {
      items: { status: string; errorCode: string | null }[];
    };
    expect(items.items.map((item) => item.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'failed']);
    expect(items.items[3]?.errorCode).toBe('DOWNLOAD_HTTP_STATUS');
    const mine = (await (await api.call('GET', '/v1/records?generationId=gen-1')).json()) as { items: unknown[] };
    expect(mine.items).toHaveLength(3);

    for (const path of [`/v1/tasks/${taskId}`, `/v1/tasks/${taskId}/events`, `/v1/tasks/${taskId}/items`]) {
      expect(await errorOf(await api.call('GET', path, { as: 'bob' }))).toMatchObject({
        status: 404,
        code: 'TASK_NOT_FOUND',
      });
    }
    expect((await api.call('DELETE', `/v1/tasks/${taskId}`, { as: 'bob' })).status).toBe(404);
    const bobs = (await (await api.call('GET', '/v1/tasks', { as: 'bob' })).json()) as { items: unknown[] };
    expect(bobs.items).toHaveLength(0);
    const admins = (await (await api.call('GET', '/v1/tasks', { as: 'admin' })).json()) as { items: Task[] };
    expect(admins.items.map((task) => task.taskId)).toContain(taskId);
    // A list leaves the records out rather than saying there are none; the task itself names them.
    const listed = admins.items.find((task) => task.taskId === taskId);
    expect(listed?.result).not.toHaveProperty('processedFileIds');
    expect(listed?.result).toMatchObject({ successfulFiles: 3, totalFiles: 4 });
  });

  test('cancel stops a running task; bad requests are refused before anything is queued', async () => {
    const queued = await api.call('POST', '/v1/ingest', {
      json: { urls: [at('slow/fixture.png'), at('slow/fixture.gif')], maxAttempts: 1 },
    });
    const { taskId } = (await queued.json()) as { taskId: string };
    await waitFor(taskId, (task) => task.status === 'running');
    const cancelled = await api.call('DELETE', `/v1/tasks/${taskId}`);
    expect(cancelled.status).toBe(200);
    expect(((await cancelled.json()) as { cancelled: boolean }).cancelled).toBe(true);
    slowGate();
    const final = await waitFor(taskId, (task) => task.status === 'cancelled');
    expect(final.progress.succeeded).toBe(0);

    const before = ((await (await api.call('GET', '/v1/tasks?limit=200', { as: 'admin' })).json()) as { items: [] })
      .items.length;
    const refusals: [unknown, number, string][] = [
      [{ urls: [] }, 400, 'VALIDATION_ERROR'],
      [{ urls: ['http://169.254.169.254/latest/meta-data/'] }, 400, 'URL_NOT_ALLOWED'],
      [{ urls: ['ftp://example.com/a.png'] }, 400, 'URL_NOT_ALLOWED'],
      [{ urls: [at('fixture.jpg')], userId: 'someone-else' }, 403, 'FORBIDDEN'],
      [{ urls: [at('fixture.jpg')], options: { quality: 0 } }, 400, 'VALIDATION_ERROR'],
    ];
    for (const [json, status, code] of refusals) {
      expect(await errorOf(await api.call('POST', '/v1/ingest', { json }))).toMatchObject({ status, code });
    }
    const after = ((await (await api.call('GET', '/v1/tasks?limit=200', { as: 'admin' })).json()) as { items: [] })
      .items.length;
    expect(after).toBe(before);
    expect((await errorOf(await api.call('GET', '/v1/tasks/not-a-task'))).status).toBe(400);
  });

  test('generate by uids and auto; workers and stats report what happened', async () => {
    const created = (await (
      await api.call('POST', '/v1/records', { json: { records: [{ mediaType: 'text' }, { mediaType: 'image' }] } })
    ).json()) as { items: { uid: string }[] };
    const queued = await api.call('POST', '/v1/generate', {
      json: { uids: created.items.map((r) => r.uid), fileSizeKb: 4 },
    });
    expect(queued.status).toBe(202);
    const { taskId } = (await queued.json()) as { taskId: string };
    const done = await waitFor(taskId, (task) => task.status === 'succeeded' || task.status === 'failed');
    expect(done.status).toBe('succeeded');
    const neither = await api.call('POST', '/v1/generate', { json: { fileSizeKb: 4 } });
    expect(await errorOf(neither)).toMatchObject({ status: 400, code: 'VALIDATION_ERROR' });
    const unknown = await api.call('POST', '/v1/generate', {
      json: { uids: ['01a1ffe6-4a01-73d5-b3c6-2a032f390dbf'] },
    });
    expect((await errorOf(unknown)).status).toBe(404);

    const workers = (await (await api.call('GET', '/v1/workers', { as: 'admin' })).json()) as {
      workers: { id: string; state: string; processed: number }[];
    };
    const ours = workers.workers.find((w) => w.id === worker.worker.id);
    expect(ours?.state).toBe('online');
    const stats = (await (await api.call('GET', '/v1/stats')).json()) as {
      files: number;
      byMediaType: { text: { files: number } };
    };
    expect(stats.files).toBeGreaterThanOrEqual(5);
    expect(stats.byMediaType.text.files).toBeGreaterThanOrEqual(2);
  });

  test('metrics expose HTTP, task, item, worker and storage figures', async () => {
    const response = await api.call('GET', '/metrics', { as: 'admin' });
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toMatch(/mediaforge_http_requests_total\{method="POST",route="\/v1\/ingest",status="202"\} \d+/);
    expect(text).toMatch(/mediaforge_http_request_duration_seconds_bucket\{/);
    expect(text).toMatch(/mediaforge_tasks\{status="succeeded"\} [1-9]/);
    expect(text).toMatch(/mediaforge_task_items\{status="failed"\} [1-9]/);
    expect(text).toMatch(/mediaforge_workers\{state="online"\} [1-9]/);
    expect(text).toMatch(/mediaforge_stored_bytes\{media_type="image"\} [1-9]/);
  });

  test('the OpenAPI 3.1 document validates and a typed hono/client works against the app', async () => {
    const document = (await (await api.call('GET', '/openapi.json', { as: null })).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(document.openapi).toBe('3.1.0');
    for (const path of ['/v1/records', '/v1/records/{uid}/file', '/v1/ingest', '/v1/tasks/{id}/events', '/health']) {
      expect(Object.keys(document.paths)).toContain(path);
    }
    const result = await validate(structuredClone(document) as never);
    expect(result.valid ? [] : result.errors).toEqual([]);
    // Built once per app and served from memory after (it needs no key, and building it costs ~0.15 s of CPU).
    const prototype = Object.getPrototypeOf(api.app) as typeof api.app;
    const build = prototype.getOpenAPI31Document;
    let builds = 0;
    prototype.getOpenAPI31Document = function (this: typeof api.app, ...args: Parameters<typeof build>) {
      builds += 1;
      return build.apply(this, args);
    };
    try {
      const again = await (await api.call('GET', '/openapi.json', { as: null })).json();
      expect(again).toEqual(document);
      expect(builds).toBe(0);
    } finally {
      prototype.getOpenAPI31Document = build;
    }

    const client = hc<AppType>('http://api.test', {
      fetch: (input: RequestInfo | URL, init?: RequestInit) => api.app.request(input, init),
      headers: { authorization: `Bearer ${api.keys.alice}` },
    });
    const created = await client.v1.records.$post({ json: { mediaType: 'video', title: 'typed' } });
    expect(created.status).toBe(201);
    const listed = await client.v1.records.$get({ query: { mediaType: 'video' } });
    const page = await listed.json();
    expect(page.items.some((record) => record.title === 'typed')).toBe(true);
  });
});
