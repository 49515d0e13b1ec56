import { expect, test } from 'bun:test';
import { openHeaders, sealHeaders } from './sealed-headers.ts';

const KEY = 'k'.repeat(32);

test('sealed headers open with the same key, and with nothing else: no key, another key, an altered value', () => {
  const headers = { authorization: 'Bearer token-1' };
  const sealed = sealHeaders(headers, KEY);
  expect(sealed).not.toContain('token-1');
  expect(openHeaders(sealed, KEY)).toEqual(headers);
  expect(() => sealHeaders(headers, undefined)).toThrow(/INGEST_HEADERS_KEY/);
  const [version, iv, body, tag] = sealed.split('.') as [string, string, string, string];
  const flipped = `${body[0] === 'A' ? 'B' : 'A'}${body.slice(1)}`;
  for (const [value, key] of [
    [sealed, undefined],
    [sealed, 'j'.repeat(32)],
    [[version, iv, flipped, tag].join('.'), KEY],
    [['v0', iv, body, tag].join('.'), KEY],
  ] as const) {
    expect(() => openHeaders(value, key)).toThrow(expect.objectContaining({ code: 'INVALID_HEADERS' }));
  }
});
