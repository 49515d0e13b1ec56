import { expect, test } from 'bun:test';
import { checkRequestHeaders } from './request-headers.ts';

test('headers named like properties of Object.prototype are headers like any other', () => {
  // As a JSON body gives them: `__proto__` is then an own key, not the prototype.
  const given = JSON.parse('{"Constructor": "a", "__proto__": "b", "X-Token": "c"}') as Record<string, unknown>;
  const checked = checkRequestHeaders(given);
  expect(Object.entries(checked)).toEqual([
    ['constructor', 'a'],
    ['__proto__', 'b'],
    ['x-token', 'c'],
  ]);
  expect(Object.entries({ ...checked })).toHaveLength(3);
  expect(() => checkRequestHeaders({ 'X-Token': 'a', 'x-token': 'b' })).toThrow('given twice');
});
