import { expect, test } from 'bun:test';
import type { ClaimedItem, Logger } from '@mediaforge/core';
import { Deadlines } from './deadlines.ts';
import { holdItem } from './held.ts';

const item = (id: number) => ({ id, taskId: 't', seq: id, attempts: 1 }) as unknown as ClaimedItem;
const held = (id: number) => holdItem(item(id), { child: () => ({}) } as unknown as Logger, 'w');

test('one timer fires each limit once, at its time, for every item it watches', async () => {
  const start = performance.now();
  const events: [string, number][] = [];
  const deadlines = new Deadlines(
    (h) => events.push([`soft ${h.item.id}`, performance.now() - start]),
    (h) => events.push([`hard ${h.item.id}`, performance.now() - start]),
  );
  const [a, b, c] = [held(1), held(2), held(3)];
  deadlines.add(a, 120, 200);
  deadlines.add(b, 40, 80); // earlier than what is armed: re-armed for it
  deadlines.add(c, 60, 100);
  deadlines.delete(c); // ended in time: nothing fires for it
  await Bun.sleep(320);
  expect(events.map(([event]) => event)).toEqual(['soft 2', 'hard 2', 'soft 1', 'hard 1']);
  const due = [40, 80, 120, 200];
  events.forEach(([, ms], n) => {
    expect(ms).toBeGreaterThanOrEqual((due[n] ?? 0) - 2);
    expect(ms).toBeLessThan((due[n] ?? 0) + 60);
  });
  expect(deadlines.size).toBe(0);
});

test('with nothing left to watch no timer is left armed', async () => {
  let fired = 0;
  const deadlines = new Deadlines(
    () => fired++,
    () => fired++,
  );
  const a = held(1);
  deadlines.add(a, 30, 60);
  deadlines.delete(a);
  expect((deadlines as unknown as { timer: unknown }).timer).toBeUndefined();
  await Bun.sleep(100);
  expect(fired).toBe(0);
});
