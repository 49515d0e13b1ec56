import { describe, expect, test } from 'bun:test';
import { InvalidUidError } from './errors.ts';
import { isUid, newUid, parseUid } from './uid.ts';

describe('uids', () => {
  test('parseUid accepts canonical UUIDs, normalising case and whitespace', () => {
    expect(parseUid(' 12345678-1234-5678-9012-ABCDEF123456\n')).toBe('12345678-1234-5678-9012-abcdef123456');
  });

  test.each(['', 'nope', '12345678123456789012123456789012', '12345678-1234-5678-9012-12345678901g', "'; drop table"])(
    'parseUid(%p) throws InvalidUidError',
    (value) => {
      expect(() => parseUid(value)).toThrow(InvalidUidError);
    },
  );

  test('newUid makes distinct, valid, time-ordered ids', () => {
    const ids = Array.from({ length: 100 }, newUid);
    expect(new Set(ids).size).toBe(100);
    expect(ids.every(isUid)).toBe(true);
    expect([...ids].sort()).toEqual(ids);
  });
});
