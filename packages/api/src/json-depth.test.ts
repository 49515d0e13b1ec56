import { expect, test } from 'bun:test';
import { jsonDepth } from './json-depth.ts';

test('depth counts objects and arrays, not brackets inside strings', () => {
  expect(jsonDepth('1')).toBe(0);
  expect(jsonDepth('{"a":[1,{"b":2}]}')).toBe(3);
  expect(jsonDepth('{"a":"[[[{{{\\"]]]"}')).toBe(1);
  expect(jsonDepth('['.repeat(100_000) + ']'.repeat(100_000))).toBe(100_000);
});
