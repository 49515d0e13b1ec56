import { expect, test } from 'bun:test';
import { FileProcessingError } from '../errors.ts';
import { MAX_WAITING, withOwnerGates } from './owner-gates.ts';

/** Work that runs until `release()`, recording how many run at once per name. */
function tracker() {
  const running = new Map<string, number>();
  const peaks = new Map<string, number>();
  const releases: (() => void)[] = [];
  const work = (names: string[]) => async () => {
    for (const name of names) {
      running.set(name, (running.get(name) ?? 0) + 1);
      peaks.set(name, Math.max(peaks.get(name) ?? 0, running.get(name) ?? 0));
    }
    await new Promise<void>((resolve) => releases.push(resolve));
    for (const name of names) running.set(name, (running.get(name) ?? 0) - 1);
  };
  const drain = async () => {
    while (releases.length > 0) {
      releases.shift()?.();
      await Bun.sleep(0);
    }
  };
  return { work, drain, peaks, started: () => releases.length };
}

test('work under the same name takes turns; other names and other databases run beside it', async () => {
  const db = {};
  const other = {};
  const t = tracker();
  const all = [
    ...Array.from({ length: 5 }, () => withOwnerGates(db, ['u1'], t.work(['db:u1']))),
    withOwnerGates(db, ['u2'], t.work(['db:u2'])),
    withOwnerGates(other, ['u1'], t.work(['other:u1'])),
  ];
  await Bun.sleep(0);
  expect(t.started()).toBe(3); // one u1, u2, and u1 on the other database
  await t.drain();
  await Promise.all(all);
  expect(Object.fromEntries(t.peaks)).toEqual({ 'db:u1': 1, 'db:u2': 1, 'other:u1': 1 });
});

test('several names are taken in order, so two callers naming them in opposite orders cannot deadlock', async () => {
  const db = {};
  const t = tracker();
  const both = [
    withOwnerGates(db, ['b', 'a'], t.work(['a', 'b'])),
    withOwnerGates(db, ['a', 'b'], t.work(['a', 'b'])),
    withOwnerGates(db, ['b'], t.work(['b'])),
  ];
  await Bun.sleep(0);
  expect(t.started()).toBe(1);
  await t.drain();
  await Promise.all(both);
  expect(Object.fromEntries(t.peaks)).toEqual({ a: 1, b: 1 });
});

test('a failing turn releases its gate; past MAX_WAITING in line, a write is refused as CONCURRENCY_LIMITED', async () => {
  const db = {};
  await expect(withOwnerGates(db, ['u'], () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  expect(await withOwnerGates(db, ['u'], async () => 'after')).toBe('after');

  const t = tracker();
  const inLine = Array.from({ length: MAX_WAITING }, () => withOwnerGates(db, ['u'], t.work(['u'])));
  const refused = await withOwnerGates(db, ['u'], async () => 'never').catch((error: unknown) => error);
  expect(refused).toBeInstanceOf(FileProcessingError);
  expect(refused).toMatchObject({ code: 'CONCURRENCY_LIMITED', transient: true });
  expect(await withOwnerGates(db, ['another'], async () => 'free')).toBe('free');
  await t.drain();
  await Promise.all(inLine);
  expect(await withOwnerGates(db, ['u'], async () => 'again')).toBe('again');
});
