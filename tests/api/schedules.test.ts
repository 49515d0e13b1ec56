/** `/v1/schedules`, `/v1/optimize`, per-task limits and `/v1/workers` active items, on PGlite and PostgreSQL. */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { describeBackends } from '@mediaforge/core/testing';
import { createTestApi, errorOf, type TestApi } from './support.ts';

describeBackends('API schedules, optimize and task limits', (backend) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi(backend.database(), {
      SCHEDULE_MIN_INTERVAL_SECONDS: '60',
      SCHEDULE_MAX_PER_USER: '2',
      TASK_TIMEOUT_MINUTES: '10',
      TASK_SOFT_TIMEOUT_MINUTES: '5',
    });
  });
  afterAll(() => api.close());

  test('schedules: add, list, get, runs, remove; owner-scoped; hostile input typed', async () => {
    const added = await api.call('POST', '/v1/schedules', {
      json: { cron: '*/5 * * * *', action: 'generate_auto', name: 'every five', params: { limit: 10 } },
    });
    expect(added.status).toBe(201);
    const schedule = (await added.json()) as { id: string; userId: string; nextRunAt: string; params: unknown };
    expect(schedule.userId).toStartWith('alice-');
    expect(schedule.params).toEqual({ limit: 10, fileSizeKb: 15 });
    expect(Date.parse(schedule.nextRunAt)).toBeGreaterThan(Date.now());
    const listed = (await (await api.call('GET', '/v1/schedules')).json()) as { schedules: { id: string }[] };
    expect(listed.schedules.map((s) => s.id)).toEqual([schedule.id]);
    expect((await api.call('GET', `/v1/schedules/${schedule.id}/runs`)).status).toBe(200);

    // Bob sees nothing of Alice's, and cannot touch it.
    const bobList = (await (await api.call('GET', '/v1/schedules', { as: 'bob' })).json()) as { schedules: [] };
    expect(bobList.schedules).toEqual([]);
    for (const [method, path] of [
      ['GET', `/v1/schedules/${schedule.id}`],
      ['GET', `/v1/schedules/${schedule.id}/runs`],
      ['DELETE', `/v1/schedules/${schedule.id}`],
    ] as const) {
      expect(await errorOf(await api.call(method, path, { as: 'bob' }))).toMatchObject({
        status: 404,
        code: 'SCHEDULE_NOT_FOUND',
      });
    }
    const post = (json: unknown, as: 'alice' | 'admin' = 'alice') => api.call('POST', '/v1/schedules', { json, as });
    expect(await errorOf(await post({ cron: 'every day', action: 'generate_auto' }))).toMatchObject({
      status: 400,
      code: 'INVALID_SCHEDULE',
    });
    expect(await errorOf(await post({ cron: '* * * * * *', action: 'generate_auto' }))).toMatchObject({
      status: 400,
      code: 'SCHEDULE_TOO_FREQUENT',
    });
    expect(await errorOf(await post({ cron: '0 * * * *', action: 'maintenance' }))).toMatchObject({
      status: 403,
      code: 'OPTION_NOT_ALLOWED',
    });
    expect(
      await errorOf(await post({ cron: '0 * * * *', action: 'generate_auto', userId: 'someone-else' })),
    ).toMatchObject({ status: 403 });
    expect(
      await errorOf(await post({ cron: '0 * * * *', action: 'generate_auto', params: { evil: 1 } })),
    ).toMatchObject({ status: 400 });
    expect((await post({ cron: '0 * * * *', action: 'generate_auto' })).status).toBe(201);
    expect(await errorOf(await post({ cron: '0 * * * *', action: 'generate_auto' }))).toMatchObject({
      status: 409,
      code: 'TOO_MANY_SCHEDULES',
    });
    // An admin may schedule maintenance (no owner).
    expect((await post({ cron: '0 3 * * *', action: 'maintenance', timezone: 'Europe/Berlin' }, 'admin')).status).toBe(
      201,
    );
    expect((await api.call('DELETE', `/v1/schedules/${schedule.id}`)).status).toBe(204);
    expect((await api.call('GET', `/v1/schedules/${schedule.id}`)).status).toBe(404);
  });

  test('per-task limits: stored on the task; a non-admin key may only shorten the server limits', async () => {
    const urls = ['https://example.com/a.png'];
    const ok = await api.call('POST', '/v1/ingest', {
      json: { urls, softTimeoutSeconds: 60, timeoutSeconds: 120, maxConcurrent: 2 },
    });
    expect(ok.status).toBe(202);
    const { taskId } = (await ok.json()) as { taskId: string };
    const task = await api.database.db.query.tasks.findFirst({ where: (t, { eq }) => eq(t.id, taskId) });
    expect(task?.options.limits).toEqual({ softTimeoutMs: 60_000, timeoutMs: 120_000, maxConcurrent: 2 });
    expect(await errorOf(await api.call('POST', '/v1/ingest', { json: { urls, timeoutSeconds: 601 } }))).toMatchObject({
      status: 403,
      code: 'OPTION_NOT_ALLOWED',
      // The limit in the unit of the option (the variable is in minutes).
      message: expect.stringContaining('timeoutSeconds 601 is above TASK_TIMEOUT_MINUTES (600 s)'),
    });
    expect(
      await errorOf(await api.call('POST', '/v1/generate', { json: { auto: {}, softTimeoutSeconds: 301 } })),
    ).toMatchObject({ status: 403, code: 'OPTION_NOT_ALLOWED' });
    expect(
      await errorOf(
        await api.call('POST', '/v1/ingest', { json: { urls, softTimeoutSeconds: 50, timeoutSeconds: 40 } }),
      ),
    ).toMatchObject({ status: 400, code: 'INVALID_TASK' });
    expect((await api.call('POST', '/v1/ingest', { json: { urls, timeoutSeconds: 3600 }, as: 'admin' })).status).toBe(
      202,
    );
  });

  test('optimize: nothing to do is 409; another user is 403; workers report active items', async () => {
    expect(await errorOf(await api.call('POST', '/v1/optimize', { json: {} }))).toMatchObject({
      status: 409,
      code: 'NOTHING_TO_DO',
    });
    expect(await errorOf(await api.call('POST', '/v1/optimize', { json: { userId: 'someone-else' } }))).toMatchObject({
      status: 403,
    });
    // No webhook or Idempotency-Key on optimization tasks: refused, never silently dropped.
    const hook = { webhook: { url: 'https://example.com/hook', allowPrivate: true } };
    expect(await errorOf(await api.call('POST', '/v1/optimize', { json: hook }))).toMatchObject({ status: 400 });
    const keyed = await api.call('POST', '/v1/optimize', { json: {}, headers: { 'idempotency-key': 'opt1' } });
    expect(await errorOf(keyed)).toMatchObject({ status: 400, code: 'VALIDATION_ERROR' });
    const workers = (await (await api.call('GET', '/v1/workers', { as: 'admin' })).json()) as {
      activeItems: { total: number; byTask: unknown[] };
    };
    expect(workers.activeItems).toEqual(expect.objectContaining({ total: 0, byTask: [] }));
  });
});
