import { afterAll, expect, test } from 'bun:test';
import http from 'node:http';
import { downloadBytes } from './download.ts';
import { UrlNotAllowedError } from './guard.ts';

// A real origin on loopback that counts the TCP connections it accepts.
let connections = 0;
const origin = http.createServer((_request, response) => response.end('x'.repeat(16 * 1024)));
origin.on('connection', () => {
  connections += 1;
});
await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
const port = (origin.address() as { port: number }).port;
afterAll(() => {
  origin.closeAllConnections();
  origin.close();
});

test('downloads from one origin reuse kept-alive connections instead of one per URL', async () => {
  const before = connections;
  for (let i = 0; i < 10; i++) {
    const { bytes } = await downloadBytes(`http://127.0.0.1:${port}/f${i}`, { policy: { allowPrivate: true } });
    expect(bytes.byteLength).toBe(16 * 1024);
  }
  expect(connections - before).toBe(1);
});

test('a pooled connection is never handed to a stricter policy: its new connection meets the guard', async () => {
  // One resolver, so only the policy's own rules differ; the name resolves to loopback.
  const resolve = async () => [{ address: '127.0.0.1', family: 4 }];
  const url = `http://origin.example:${port}/pooled`;
  const lenient = await downloadBytes(url, { policy: { allowPrivate: true, resolve } });
  expect(lenient.bytes.byteLength).toBe(16 * 1024);
  // The lenient pool holds an idle socket to this very host and port; the strict request must not get it.
  await expect(downloadBytes(url, { policy: { resolve }, retries: 0 })).rejects.toBeInstanceOf(UrlNotAllowedError);
});
