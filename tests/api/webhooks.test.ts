/**
 * The API side of webhooks, idempotency keys, retries and dead letters, on both database backends: a webhook
 * signed with the key's own secret reaches a loopback receiver (allowed by MEDIAFORGE_ALLOW_HOSTS) and is listed;
 * Idempotency-Key replays and conflicts; retry and dead letters are owner-scoped; private targets need an admin.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { createLogger, verifyWebhook, webhookSecretForKey } from '@mediaforge/core';
import { describeBackends } from '@mediaforge/core/testing';
import { runWorker } from '@mediaforge/worker';
import { recoveringOrigin } from '../support/origins.ts';
import { createTestApi, errorOf, type TestApi } from './support.ts';

const origin = recoveringOrigin();
const received: { body: string; signature: string | null }[] = [];
const receiver = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  async fetch(request) {
    received.push({ body: await request.text(), signature: request.headers.get('mediaforge-signature') });
    return new Response('thanks');
  },
});
afterAll(() => {
  origin.server.stop(true);
  receiver.stop(true);
});
const at = origin.url;
const hookUrl = `http://127.0.0.1:${receiver.port}/hook`;

describeBackends('API webhooks, idempotency keys, retry and dead letters', (backend) => {
  let api: TestApi;
  let worker: Awaited<ReturnType<typeof runWorker>>;
  beforeAll(async () => {
    api = await createTestApi(backend.database(), { MEDIAFORGE_ALLOW_HOSTS: '127.0.0.1' });
    worker = await runWorker({
      settings: api.settings,
      database: backend.database(),
      store: api.store,
      signals: false,
      pollMs: 50,
      logger: createLogger({ level: 'silent' }),
    });
  });
  afterAll(async () => {
    await worker.stop();
    api.close();
  });

  const task = async (taskId: string, as: 'alice' | 'bob' = 'alice') =>
    (await (await api.call('GET', `/v1/tasks/${taskId}`, { as })).json()) as { status: string; ready: boolean };
  const finished = async (taskId: string) => {
    for (let i = 0; i < 400; i++) {
      const found = await task(taskId);
      if (found.ready) return found;
      await Bun.sleep(50);
    }
    throw new Error(`task ${taskId} did not finish`);
  };

  test('a failed task is listed in dead letters, retried by its owner only, then succeeds and is told', async () => {
    origin.down();
    const queued = await api.call('POST', '/v1/ingest', {
      json: { urls: [at('a.txt'), at('b.txt')], maxAttempts: 1, webhook: { url: hookUrl } },
    });
    expect(queued.status).toBe(202);
    const { taskId } = (await queued.json()) as { taskId: string };
    expect((await finished(taskId)).status).toBe('failed');

    const dead = (await (await api.call('GET', `/v1/dead-letters?taskId=${taskId}`)).json()) as {
      items: { errorCode: string; exhausted: boolean }[];
    };
    expect(dead.items).toHaveLength(2);
    expect(dead.items[0]).toMatchObject({ errorCode: 'DOWNLOAD_HTTP_STATUS', exhausted: true });
    const bobs = (await (await api.call('GET', '/v1/dead-letters', { as: 'bob' })).json()) as { items: unknown[] };
    expect(bobs.items).toHaveLength(0);
    expect(await errorOf(await api.call('POST', `/v1/tasks/${taskId}/retry`, { as: 'bob', json: {} }))).toMatchObject({
      status: 404,
      code: 'TASK_NOT_FOUND',
    });

    origin.recover();
    const retried = await api.call('POST', `/v1/tasks/${taskId}/retry`, { json: { failedOnly: true } });
    expect(await retried.json()).toEqual({ taskId, requeued: 2 });
    expect((await finished(taskId)).status).toBe('succeeded');

    // Two finishes, two deliveries, each signed with the key's webhook secret (computable from the key).
    const secret = webhookSecretForKey(api.keys.alice);
    let view: { webhook: { deliveries: { status: string; lastStatus: number; lastResponse: string }[] } } | undefined;
    for (let i = 0; i < 200; i++) {
      view = (await (await api.call('GET', `/v1/tasks/${taskId}/webhook`)).json()) as typeof view;
      if (view?.webhook.deliveries.length === 2 && view.webhook.deliveries.every((d) => d.status === 'succeeded')) {
        break;
      }
      await Bun.sleep(50);
    }
    expect(view?.webhook.deliveries.map((d) => [d.status, d.lastStatus, d.lastResponse])).toEqual([
      ['succeeded', 200, 'thanks'],
      ['succeeded', 200, 'thanks'],
    ]);
    const mine = received.filter((r) => r.body.includes(taskId));
    expect(mine.map((r) => verifyWebhook({ ...r, secret }).data.status).sort()).toEqual(['failed', 'succeeded']);
    expect(() =>
      verifyWebhook({ ...(mine[0] as (typeof mine)[0]), secret: webhookSecretForKey(api.keys.bob) }),
    ).toThrow('does not match');
    expect((await api.call('GET', `/v1/tasks/${taskId}/webhook`, { as: 'bob' })).status).toBe(404);
  });

  test('Idempotency-Key: the same body returns the same task, another body is a 409', async () => {
    origin.recover();
    const send = (urls: string[], key = 'order-42') =>
      api.call('POST', '/v1/ingest', { json: { urls }, headers: { 'idempotency-key': key } });
    const responses = await Promise.all(Array.from({ length: 8 }, () => send([at('i.txt')])));
    const ids = await Promise.all(responses.map(async (r) => ((await r.json()) as { taskId: string }).taskId));
    expect(responses.every((r) => r.status === 202)).toBe(true);
    expect(new Set(ids).size).toBe(1);
    expect(await errorOf(await send([at('other.txt')]))).toMatchObject({ status: 409, code: 'IDEMPOTENCY_KEY_REUSED' });
    // Keys are per owner: bob's same key is his own task.
    const bobs = await api.call('POST', '/v1/ingest', {
      as: 'bob',
      json: { urls: [at('i.txt')] },
      headers: { 'idempotency-key': 'order-42' },
    });
    expect(((await bobs.json()) as { taskId: string }).taskId).not.toBe(ids[0]);
  });

  test('webhooks to private addresses: refused for everyone, allowPrivate only for admin keys', async () => {
    const metadata = await api.call('POST', '/v1/ingest', {
      json: { urls: [at('x.txt')], webhook: { url: 'http://10.0.0.1/hook' } },
    });
    expect(await errorOf(metadata)).toMatchObject({ status: 400, code: 'URL_NOT_ALLOWED' });
    const asked = await api.call('POST', '/v1/ingest', {
      json: { urls: [at('x.txt')], webhook: { url: 'http://10.0.0.1/hook', allowPrivate: true } },
    });
    expect(await errorOf(asked)).toMatchObject({ status: 403, code: 'OPTION_NOT_ALLOWED' });
    const admin = await api.call('POST', '/v1/ingest', {
      as: 'admin',
      json: { urls: [at('x.txt')], webhook: { url: 'http://10.0.0.1/hook', allowPrivate: true } },
    });
    expect(admin.status).toBe(202);
    const long = await api.call('POST', '/v1/ingest', {
      json: { urls: [at('x.txt')], webhook: { url: `${hookUrl}/${'a'.repeat(3000)}` } },
    });
    expect(long.status).toBe(400);
  });
});
