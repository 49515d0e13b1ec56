import { expect, test } from 'bun:test';
import { STORING_PER_DOWNLOAD } from '@mediaforge/core';
import type { Held } from './held.ts';
import { Storing } from './storing.ts';

const held = () => ({}) as Held;
const never = () => false;

test('at most STORING_PER_DOWNLOAD storing items per slot; past that an item keeps its slot', async () => {
  const storing = new Storing(2);
  const items = Array.from({ length: 2 * STORING_PER_DOWNLOAD + 1 }, held);
  const entered = [];
  for (const item of items) entered.push(await storing.enter(item, 0, never));
  expect(entered.filter(Boolean)).toHaveLength(2 * STORING_PER_DOWNLOAD);
  expect(entered.at(-1)).toBe(false);
  expect(storing.size).toBe(2 * STORING_PER_DOWNLOAD);
  storing.leave(items[0] as Held);
  expect(await storing.enter(items.at(-1) as Held, 0, never)).toBe(true);
  // Entering twice, or leaving what never entered, changes nothing.
  expect(await storing.enter(items.at(-1) as Held, 0, never)).toBe(false);
  storing.leave(held());
  expect(storing.size).toBe(2 * STORING_PER_DOWNLOAD);
});

test('bodies in memory: an item waits until its bytes fit beside the others; one item always passes', async () => {
  const storing = new Storing(4, 100);
  const [a, b, c] = [held(), held(), held()];
  expect(await storing.enter(a, 150, never)).toBe(true); // alone: let through even past the budget
  let bEntered: boolean | undefined;
  void storing.enter(b, 60, never).then((entered) => {
    bEntered = entered;
  });
  await Bun.sleep(10);
  expect(bEntered).toBeUndefined();
  expect(await storing.enter(c, 0, never)).toBe(true); // spooled to disk: nothing in memory, no wait
  storing.leave(a);
  await Bun.sleep(0);
  expect(bEntered).toBe(true);
  expect(storing.has(b)).toBe(true);
});

test('an item that ended while it waited for memory does not enter', async () => {
  const storing = new Storing(4, 100);
  const [a, b] = [held(), held()];
  await storing.enter(a, 80, never);
  let ended = false;
  const entering = storing.enter(b, 80, () => ended);
  ended = true;
  storing.leave(a);
  expect(await entering).toBe(false);
  expect(storing.size).toBe(0);
});

test('a count that is not a finite number holds no memory and leaves the budget working', async () => {
  const storing = new Storing(4, 100);
  const [a, b, c] = [held(), held(), held()];
  expect(await storing.enter(a, Number.NaN, never)).toBe(true);
  expect(await storing.enter(b, 80, never)).toBe(true);
  let cEntered = false;
  void storing.enter(c, 80, never).then(() => {
    cEntered = true;
  });
  await Bun.sleep(10);
  expect(cEntered).toBe(false);
  storing.leave(b);
  await Bun.sleep(0);
  expect(cEntered).toBe(true);
});
