/** Per-user quotas through the API: 413 QUOTA_EXCEEDED for uploads and record creation, and GET /v1/usage. */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { describeBackends } from '@mediaforge/core/testing';
import { createTestApi, errorOf, type TestApi } from './support.ts';

interface Usage {
  userId: string;
  storageBytes: number;
  records: number;
  taskBytes: number;
  limits: { storageBytes: number; maxRecords: number; taskBytes: number };
}

describeBackends('API user quotas', (backend) => {
  let api: TestApi;
  beforeAll(async () => {
    // 0.01 MiB = 10,485 bytes.
    api = await createTestApi(backend.database(), {
      USER_STORAGE_QUOTA_MB: '0.01',
      USER_MAX_RECORDS: '3',
      // 0.05 MiB = 52,428 bytes of task input.
      USER_TASK_STORAGE_MB: '0.05',
    });
  });
  afterAll(() => api.close());

  const text = (size: number) => `${crypto.randomUUID()} `.repeat(Math.ceil(size / 37)).slice(0, size);
  const usage = async (as: 'alice' | 'bob') => (await (await api.call('GET', '/v1/usage', { as })).json()) as Usage;

  test('uploads and record creation past the quotas get 413 QUOTA_EXCEEDED; usage shows where the user stands', async () => {
    const made = await api.call('POST', '/v1/records', {
      json: { records: [{ mediaType: 'text' }, { mediaType: 'text' }] },
    });
    expect(made.status).toBe(201);
    const [first, second] = ((await made.json()) as { items: { uid: string }[] }).items;
    expect((await api.call('POST', `/v1/records/${first?.uid}/file`, { body: text(6000) })).status).toBe(201);
    const refused = await api.call('POST', `/v1/records/${second?.uid}/file`, { body: text(6000) });
    expect(await errorOf(refused)).toMatchObject({ status: 413, code: 'QUOTA_EXCEEDED' });

    const batch = await api.call('POST', '/v1/records', {
      json: { records: [{ mediaType: 'text' }, { mediaType: 'text' }] },
    });
    expect(await errorOf(batch)).toMatchObject({ status: 413, code: 'QUOTA_EXCEEDED' });
    expect((await api.call('POST', '/v1/records', { json: { mediaType: 'text' } })).status).toBe(201);
    const single = await api.call('POST', '/v1/records', { json: { mediaType: 'text' } });
    expect(await errorOf(single)).toMatchObject({ status: 413, code: 'QUOTA_EXCEEDED' });

    expect(await usage('alice')).toMatchObject({
      storageBytes: 6000,
      records: 3,
      limits: { storageBytes: 10_485, maxRecords: 3 },
    });
    expect(await usage('bob')).toMatchObject({ storageBytes: 0, records: 0 });
    // Bob is not held back by Alice's usage.
    expect((await api.call('POST', '/v1/records', { as: 'bob', json: { mediaType: 'text' } })).status).toBe(201);
  });

  test('tasks past the task storage quota get 413 QUOTA_EXCEEDED, cancelled ones still counting; admins are not limited', async () => {
    const urls = () => Array.from({ length: 3 }, () => `https://${crypto.randomUUID()}.example/${'p'.repeat(7000)}`);
    const first = await api.call('POST', '/v1/ingest', { as: 'bob', json: { urls: urls() } });
    expect(first.status).toBe(202);
    const { taskId } = (await first.json()) as { taskId: string };
    expect((await api.call('DELETE', `/v1/tasks/${taskId}`, { as: 'bob' })).status).toBeLessThan(300);
    expect((await api.call('POST', '/v1/ingest', { as: 'bob', json: { urls: urls() } })).status).toBe(202);
    const refused = await api.call('POST', '/v1/ingest', { as: 'bob', json: { urls: urls() } });
    expect(await errorOf(refused)).toMatchObject({ status: 413, code: 'QUOTA_EXCEEDED' });
    expect((await api.call('POST', '/v1/ingest', { as: 'admin', json: { urls: urls() } })).status).toBe(202);
    const used = await usage('bob');
    expect(used.taskBytes).toBeGreaterThan(40_000);
    expect(used.limits.taskBytes).toBe(Math.floor(0.05 * 1024 * 1024));
  });

  test("usage: a key sees only its own user's; an admin names the user", async () => {
    const alice = await usage('alice');
    const other = await api.call('GET', `/v1/usage?userId=${encodeURIComponent(alice.userId)}`, { as: 'bob' });
    expect(await errorOf(other)).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    const admin = await api.call('GET', `/v1/usage?userId=${encodeURIComponent(alice.userId)}`, { as: 'admin' });
    expect(((await admin.json()) as Usage).records).toBe(alice.records);
    const unnamed = await api.call('GET', '/v1/usage', { as: 'admin' });
    expect(await errorOf(unnamed)).toMatchObject({ status: 400, code: 'VALIDATION_ERROR' });
  });
});
