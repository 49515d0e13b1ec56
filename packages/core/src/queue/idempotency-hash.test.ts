import { expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { requestHash } from './idempotency.ts';

test('the request hash is stable across key order, and keyed when a secret is given (no plain hash of tokens)', () => {
  const request = {
    kind: 'ingest',
    urls: ['https://a.example/x'],
    options: { headers: { authorization: 'Bearer A' } },
  };
  const reordered = {
    options: { headers: { authorization: 'Bearer A' } },
    urls: ['https://a.example/x'],
    kind: 'ingest',
  };
  expect(requestHash(request)).toBe(requestHash(reordered));
  const plain = createHash('sha256').update(JSON.stringify(request)).digest('hex');
  const keyed = requestHash(request, 'k'.repeat(32));
  // Someone reading the table cannot recompute it from a guessed token without the server's key.
  expect(keyed).not.toBe(plain);
  expect(keyed).not.toBe(requestHash(request));
  expect(keyed).toBe(requestHash(reordered, 'k'.repeat(32)));
  expect(keyed).not.toBe(requestHash(request, 'j'.repeat(32)));
});
