import { describe, expect, test } from 'bun:test';
import { CRON_HORIZON_YEARS, checkCron, nextTick, ticksToFire } from './cron.ts';

const utc = (cron: string) => ({ cron, timezone: 'UTC' });
const at = (iso: string) => new Date(iso);

describe('cron', () => {
  test('next tick, with and without a seconds field', async () => {
    expect((await nextTick(utc('*/5 * * * *'), at('2026-01-01T00:07:00Z'))).toISOString()).toBe(
      '2026-01-01T00:10:00.000Z',
    );
    expect((await nextTick(utc('*/2 * * * * *'), at('2026-01-01T00:00:01Z'))).toISOString()).toBe(
      '2026-01-01T00:00:02.000Z',
    );
  });

  test('missed ticks: the latest one fires, the earlier ones are counted as skipped', async () => {
    const fired = await ticksToFire(utc('*/5 * * * *'), at('2026-01-01T00:05:00Z'), at('2026-01-01T00:22:00Z'));
    expect(fired.tick?.toISOString()).toBe('2026-01-01T00:20:00.000Z');
    expect(fired.skipped).toBe(3);
    expect(fired.next.toISOString()).toBe('2026-01-01T00:25:00.000Z');
    const onTime = await ticksToFire(utc('*/5 * * * *'), at('2026-01-01T00:05:00Z'), at('2026-01-01T00:05:00.300Z'));
    expect(onTime.tick?.toISOString()).toBe('2026-01-01T00:05:00.000Z');
    expect(onTime.skipped).toBe(0);
  });

  test('refusals: garbage, wrong field count, unknown zone, too frequent', async () => {
    for (const bad of ['bogus', '* * * *', '* * * * * * *', '61 * * * *', 'x'.repeat(300)]) {
      await expect(checkCron(utc(bad), 60)).rejects.toMatchObject({ code: 'INVALID_SCHEDULE' });
    }
    await expect(checkCron({ cron: '* * * * *', timezone: 'Mars/Base' }, 60)).rejects.toMatchObject({
      code: 'INVALID_SCHEDULE',
    });
    await expect(checkCron(utc('* * * * * *'), 60)).rejects.toMatchObject({ code: 'SCHEDULE_TOO_FREQUENT' });
    await expect(checkCron(utc('*/30 * * * * *'), 60)).rejects.toMatchObject({ code: 'SCHEDULE_TOO_FREQUENT' });
    await expect(checkCron(utc('* * * * *'), 60, at('2026-01-01T00:00:30Z'))).resolves.toEqual(
      at('2026-01-01T00:01:00Z'),
    );
    // Ticks 59 minutes apart, then one minute apart (xx:59 → next hour's :00): the short gap is found further on.
    await expect(checkCron(utc('0,59 * * * *'), 120, at('2026-01-01T00:30:00Z'))).rejects.toMatchObject({
      code: 'SCHEDULE_TOO_FREQUENT',
      details: { gapSeconds: 60 },
    });
    await expect(checkCron(utc('* * * * * *'), 1)).resolves.toBeInstanceOf(Date);
  });

  test('the walk ends CRON_HORIZON_YEARS ahead: rare expressions cost a bounded search, never centuries', async () => {
    const now = at('2026-11-28T15:00:00Z');
    // The fifth Friday of February: next in 2036. Its 60 ticks spanned 1,700 years (0.5–1.5 s of the API's thread).
    await expect(checkCron(utc('59 23 * 2 5#5'), 60, now)).rejects.toMatchObject({
      code: 'INVALID_SCHEDULE',
      message: expect.stringContaining(`does not fire in the next ${CRON_HORIZON_YEARS} years`),
    });
    // 29 February fires in 2028, then 2032: past the horizon, so the walk stops after one tick. (Walked further, a
    // minimum interval of 4.5 years would find the 4-year gap.)
    const leap = { cron: '0 0 29 2 *', timezone: 'America/New_York' };
    const fourAndHalfYears = 4.5 * 365 * 86_400;
    await expect(checkCron(leap, fourAndHalfYears, now)).resolves.toEqual(at('2028-02-29T05:00:00Z'));
    await expect(checkCron(leap, fourAndHalfYears, at('2019-06-01T00:00:00Z'))).rejects.toMatchObject({
      code: 'SCHEDULE_TOO_FREQUENT',
    });
  });

  test('a tick decades after the next: the worker looks again at the horizon instead of walking to it', async () => {
    // The fifth Tuesday of February: 2028-02-29, then 2056-02-29.
    const rare = utc('0 0 * 2 2#5');
    const first = at('2028-02-29T00:00:00Z');
    const fired = await ticksToFire(rare, first, at('2028-02-29T00:00:00.500Z'));
    expect(fired.tick).toEqual(first);
    expect(fired.skipped).toBe(0);
    // Its next look: CRON_HORIZON_YEARS (5) on, 29 February 2033 being 1 March.
    expect(fired.next).toEqual(at('2033-03-01T00:00:00.500Z'));
    // At that check nothing has come since: no tick, and the next look is one horizon on, until the tick is within it.
    const check = await ticksToFire(rare, fired.next, new Date(fired.next.getTime() + 1000));
    expect(check.tick).toBeUndefined();
    expect(check.skipped).toBe(0);
    const later = await ticksToFire(rare, at('2053-06-01T00:00:00Z'), at('2053-06-01T00:00:01Z'));
    expect(later.tick).toBeUndefined();
    expect(later.next).toEqual(at('2056-02-29T00:00:00Z'));
    // A check that a worker reached late, after the tick: the tick fires, and the check is not counted as skipped.
    const late = await ticksToFire(rare, at('2053-06-01T00:00:00Z'), at('2056-02-29T00:00:05Z'));
    expect(late.tick).toEqual(at('2056-02-29T00:00:00Z'));
    expect(late.skipped).toBe(0);
  });
});
