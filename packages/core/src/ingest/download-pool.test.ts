import { afterAll, expect, test } from 'bun:test';
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import { downloadBytes } from './download.ts';
import { UrlNotAllowedError } from './guard.ts';

// A real origin on loopback that counts the TCP connections it accepts and remembers what it was asked.
let connections = 0;
const asked: http.IncomingHttpHeaders[] = [];
const origin = http.createServer((request, response) => {
  asked.push(request.headers);
  if (request.url === '/partial' || request.url === '/whole-part') {
    const whole = request.url === '/whole-part';
    response.writeHead(206, { 'content-range': whole ? 'bytes 0-9/10' : 'bytes 0-9/100' });
    return response.end('0123456789');
  }
  if (request.url === '/gzip') {
    response.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'audio/wav' });
    return response.end(gzipSync(Buffer.alloc(4096, 1)));
  }
  response.end('x'.repeat(16 * 1024));
});
origin.on('connection', () => {
  connections += 1;
});
await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
const port = (origin.address() as { port: number }).port;
afterAll(() => {
  origin.closeAllConnections();
  origin.close();
});
const open = { policy: { allowPrivate: true } };

test('downloads from one origin reuse kept-alive connections instead of one per URL', async () => {
  const before = connections;
  for (let i = 0; i < 10; i++) {
    const { bytes } = await downloadBytes(`http://127.0.0.1:${port}/f${i}`, open);
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
  // The lenient pool holds an idle socket to this very address and port; the strict request must not get it.
  await expect(downloadBytes(url, { policy: { resolve }, retries: 0 })).rejects.toBeInstanceOf(UrlNotAllowedError);
});

test('a name is sent as Host while the connection goes to the checked address', async () => {
  const resolve = async () => [{ address: '127.0.0.1', family: 4 }];
  await downloadBytes(`http://named.mediaforge.test:${port}/host`, { policy: { allowPrivate: true, resolve } });
  expect(asked.at(-1)?.host).toBe(`named.mediaforge.test:${port}`);
});

test('an address that refuses the connection is passed over for the next one the guard checked', async () => {
  // 127.0.0.2 is loopback too, but nothing listens there on this port.
  const resolve = async () => [
    { address: '127.0.0.2', family: 4 },
    { address: '127.0.0.1', family: 4 },
  ];
  const url = `http://two.mediaforge.test:${port}/two`;
  const { bytes } = await downloadBytes(url, { policy: { allowPrivate: true, resolve }, retries: 0 });
  expect(bytes.byteLength).toBe(16 * 1024);
  // The guard checks every address, not only the one that answered.
  const mixed = async () => [
    { address: '127.0.0.2', family: 4 },
    { address: '169.254.169.254', family: 4 },
  ];
  await expect(downloadBytes(url, { policy: { allowHosts: [], resolve: mixed }, retries: 0 })).rejects.toBeInstanceOf(
    UrlNotAllowedError,
  );
});

test("a library caller's own Host or Accept-Encoding, in any case, cannot replace the ones set", async () => {
  await downloadBytes(`http://127.0.0.1:${port}/headers`, {
    ...open,
    headers: { Host: 'evil.example', 'Accept-Encoding': 'gzip', 'X-Mine': 'kept' },
  });
  const seen = asked.at(-1);
  expect(seen?.host).toBe(`127.0.0.1:${port}`);
  expect(seen?.['accept-encoding']).toBe('identity');
  expect(seen?.['x-mine']).toBe('kept');
});

test('a 206 to a request for the whole file is refused unless the part is all of it', async () => {
  const error = await downloadBytes(`http://127.0.0.1:${port}/partial`, { ...open, retries: 0 }).catch((e) => e);
  expect(error).toMatchObject({ code: 'DOWNLOAD_HTTP_STATUS', status: 206, transient: false });
  const { bytes } = await downloadBytes(`http://127.0.0.1:${port}/whole-part`, open);
  expect(new TextDecoder().decode(bytes)).toBe('0123456789');
});

test('bodies are stored as sent: no compression asked for, and a compressed reply is not undone', async () => {
  const { bytes } = await downloadBytes(`http://127.0.0.1:${port}/gzip`, open);
  expect(asked.at(-1)?.['accept-encoding']).toBe('identity');
  expect(Buffer.from(bytes).equals(gzipSync(Buffer.alloc(4096, 1)))).toBe(true);
});

test('a proxy named in the environment is not used: downloads connect to the checked address themselves', async () => {
  let proxied = 0;
  const proxy = Bun.listen({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      open(socket) {
        proxied += 1;
        socket.end();
      },
      data() {},
    },
  });
  const saved = { HTTP_PROXY: process.env.HTTP_PROXY, http_proxy: process.env.http_proxy };
  process.env.HTTP_PROXY = `http://127.0.0.1:${proxy.port}`;
  process.env.http_proxy = `http://127.0.0.1:${proxy.port}`;
  try {
    const { bytes } = await downloadBytes(`http://127.0.0.1:${port}/direct`, { ...open, retries: 0 });
    expect(bytes.byteLength).toBe(16 * 1024);
    expect(proxied).toBe(0);
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    proxy.stop(true);
  }
});

test("a failed connection's error names the URL without its query", async () => {
  const closed = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
  const deadPort = closed.port;
  closed.stop(true);
  const error = await downloadBytes(`http://127.0.0.1:${deadPort}/f?token=s3cret`, { ...open, retries: 0 }).catch(
    (e: Error) => e,
  );
  expect(error).toMatchObject({ code: 'DOWNLOAD_NETWORK', transient: true });
  expect((error as Error).message).toContain(`127.0.0.1:${deadPort}/f?…`);
  expect(JSON.stringify({ message: (error as Error).message, cause: String((error as Error).cause) })).not.toContain(
    's3cret',
  );
});
