/**
 * Per-key budgets that hold on every route a key reaches (third attacker, 2026-11-27): dashboard pages take from the
 * key's rate limit as /v1 does, and a key may hold only so many task event streams open.
 */
import { describe, expect, test } from 'bun:test';
import { MAX_EVENT_STREAMS_PER_KEY } from '@mediaforge/api';
import { errorOf, useApiOnPostgres } from './support.ts';

const RATE = 40;
const setup = useApiOnPostgres({ API_RATE_LIMIT_PER_MINUTE: String(RATE) });

describe('per-key budgets', () => {
  test('dashboard pages take from the key’s rate limit: past it, 429 there and on /v1', async () => {
    const page = () =>
      setup.api.app.request('/dashboard/records', { headers: { cookie: `mediaforge_session=${setup.api.keys.bob}` } });
    // The bucket refills at RATE a minute while the loop runs, so a few more than RATE may pass; never 2 × RATE.
    const statuses: number[] = [];
    for (let i = 0; i < 2 * RATE && statuses.at(-1) !== 429; i++) statuses.push((await page()).status);
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThanOrEqual(RATE - 1);
    expect(await errorOf(await setup.api.call('GET', '/v1/records', { as: 'bob' }))).toMatchObject({
      status: 429,
      code: 'RATE_LIMITED',
    });
  });

  test(`at most ${MAX_EVENT_STREAMS_PER_KEY} task event streams per key; a closed one frees its place`, async () => {
    // A task nobody works on: its stream stays open until the client leaves.
    const queued = await setup.api.call('POST', '/v1/ingest', { json: { urls: ['https://example.com/a.wav'] } });
    expect(queued.status).toBe(202);
    const { taskId } = (await queued.json()) as { taskId: string };
    const open = async () => setup.api.call('GET', `/v1/tasks/${taskId}/events`);
    const streams: Response[] = [];
    for (let i = 0; i < MAX_EVENT_STREAMS_PER_KEY; i++) {
      const stream = await open();
      expect(stream.status).toBe(200);
      streams.push(stream);
    }
    const refused = await open();
    expect(await errorOf(refused)).toMatchObject({ status: 429, code: 'CONCURRENCY_LIMITED' });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another key is not affected.
    const admin = await setup.api.call('GET', `/v1/tasks/${taskId}/events`, { as: 'admin' });
    expect(admin.status).toBe(200);
    await admin.body?.cancel();
    // The client leaving one stream gives its place back.
    await streams.pop()?.body?.cancel();
    let again = await open();
    for (let i = 0; i < 40 && again.status === 429; i++) {
      await Bun.sleep(25);
      again = await open();
    }
    expect(again.status).toBe(200);
    await again.body?.cancel();
    for (const stream of streams) await stream.body?.cancel();
  });
});
