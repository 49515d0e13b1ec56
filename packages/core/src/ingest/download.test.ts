import { afterAll, describe, expect, test } from 'bun:test';
import type { Socket } from 'bun';
import { FileSizeExceededError } from '../errors.ts';
import { type DownloadRetry, downloadBytes, downloadFile } from './download.ts';
import { DownloadError } from './download-errors.ts';
import { UrlNotAllowedError } from './guard.ts';

// Real HTTP origins on loopback. Loopback is refused by default, so these tests opt in with allowPrivate; the
// refusal itself is tested at the end without it.
const open = { policy: { allowPrivate: true }, backoffMs: 5 };
const payload = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 7) & 0xff);
const hits = new Map<string, number>();
const hit = (key: string) => {
  const n = (hits.get(key) ?? 0) + 1;
  hits.set(key, n);
  return n;
};

const origin = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  async fetch(request) {
    const url = new URL(request.url);
    switch (url.pathname) {
      case '/file':
        return new Response(payload, { headers: { 'content-type': 'application/octet-stream' } });
      case '/chunked':
        return new Response(
          new ReadableStream({
            async start(controller) {
              for (let i = 0; i < payload.length; i += 50_000) {
                controller.enqueue(payload.slice(i, i + 50_000));
                await Bun.sleep(1);
              }
              controller.close();
            },
          }),
        );
      case '/huge': {
        // 51 MiB without a length: past the default cap only once it has streamed in.
        let sent = 0;
        const chunk = new Uint8Array(1024 * 1024);
        return new Response(
          new ReadableStream({
            pull(controller) {
              if (sent >= 51) return controller.close();
              sent += 1;
              controller.enqueue(chunk);
            },
          }),
        );
      }
      case '/flaky': {
        const n = hit(`flaky${url.search}`);
        return n < 3 ? new Response('busy', { status: 503 }) : new Response(payload);
      }
      case '/throttled': {
        const n = hit(`throttled${url.search}`);
        return n === 1
          ? new Response('slow down', { status: 429, headers: { 'retry-after': '1' } })
          : new Response('ok');
      }
      case '/long-retry-after':
        return new Response('later', { status: 503, headers: { 'retry-after': '3600' } });
      case '/missing':
        hit('missing');
        return new Response('no', { status: 404 });
      case '/stall':
        return new Response(
          new ReadableStream({
            async start(controller) {
              controller.enqueue(new Uint8Array(10));
              await Bun.sleep(2_000);
              controller.close();
            },
          }),
        );
      case '/trickle':
        // 10 bytes every 50 ms (200 bytes a second) for 3 s: never idle for long, always slow.
        return new Response(
          new ReadableStream({
            async start(controller) {
              for (let i = 0; i < 60; i++) {
                controller.enqueue(new Uint8Array(10));
                await Bun.sleep(50);
              }
              controller.close();
            },
          }),
        );
      case '/slow-headers':
        await Bun.sleep(2_000);
        return new Response('late');
      case '/redirect': {
        const hops = Number(url.searchParams.get('n') ?? 0);
        return hops > 0
          ? Response.redirect(`/redirect?n=${hops - 1}`, 302)
          : new Response('arrived', { headers: { 'content-type': 'text/plain' } });
      }
      case '/loop':
        return Response.redirect('/loop2', 302);
      case '/loop2':
        return Response.redirect('/loop', 302);
      case '/to-metadata':
        return Response.redirect('http://169.254.169.254/latest/meta-data/', 302);
      default:
        return new Response('not found', { status: 404 });
    }
  },
});
const base = `http://127.0.0.1:${origin.port}`;

/**
 * A raw TCP origin for what a well-behaved server cannot do: lie about Content-Length and reset mid-body.
 * `/reset` sends half the body then closes; a Range request gets the rest (206).
 */
const raw = Bun.listen<{ buffer: string }>({
  hostname: '127.0.0.1',
  port: 0,
  socket: {
    open(socket) {
      socket.data = { buffer: '' };
    },
    data(socket: Socket<{ buffer: string }>, data) {
      socket.data.buffer += data.toString();
      if (!socket.data.buffer.includes('\r\n\r\n')) return;
      const [line = '', ...headerLines] = socket.data.buffer.split('\r\n');
      const path = line.split(' ')[1] ?? '/';
      const range = headerLines.find((h) => h.toLowerCase().startsWith('range:'));
      const head = (status: string, headers: Record<string, string | number>) =>
        `HTTP/1.1 ${status}\r\n${Object.entries(headers)
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('')}connection: close\r\n\r\n`;
      if (path === '/lie-short') {
        // Declares less than it sends: HTTP framing ends the body at the declared length.
        socket.write(head('200 OK', { 'content-length': 10 }));
        socket.write(new Uint8Array(100).fill(7));
        socket.end();
      } else if (path === '/lie-long') {
        // Declares more than it sends, then closes: an interrupted body, not a complete file.
        socket.write(head('200 OK', { 'content-length': 1000 }));
        socket.write(new Uint8Array(400));
        socket.end();
      } else if (path === '/lie-long-ranged') {
        // Declares more than it has and offers ranges; resuming past its real end gets 416.
        if (range) {
          socket.write(head('416 Range Not Satisfiable', { 'content-range': 'bytes */400', 'content-length': 0 }));
        } else {
          socket.write(head('200 OK', { 'content-length': 1000, 'accept-ranges': 'bytes', etag: '"v1"' }));
          socket.write(new Uint8Array(400));
          // `fetch` may report a close that follows the bytes at once before handing them over (then it resumes
          // from 0, which is as safe); the pause makes "400 bytes arrived, then the connection closed" the case.
          setTimeout(() => socket.end(), 20);
          return;
        }
        socket.end();
      } else if (path === '/bad-location') {
        socket.write(head('302 Found', { location: 'http://[::1', 'content-length': 0 }));
        socket.end();
      } else if (path === '/lie-huge') {
        // Declares a small length but the cap must be enforced on what arrives: send without a length instead.
        socket.write(head('200 OK', { 'content-type': 'application/octet-stream' }));
        for (let i = 0; i < 40; i++) socket.write(new Uint8Array(50_000));
        socket.end();
      } else if (path.startsWith('/reset')) {
        // `/reset-changed` answers the resume with the rest of another version (it ignores If-Range); `/reset-weak`
        // offers only a weak ETag; `/reset-length` resumes with the right ETag but another total length.
        const etag = path === '/reset-weak' ? 'W/"v1"' : '"v1"';
        const resumedEtag = path === '/reset-changed' ? '"v2"' : etag;
        const total = path === '/reset-length' ? payload.length + 1 : payload.length;
        if (range) {
          const start = Number(/bytes=(\d+)-/.exec(range)?.[1] ?? 0);
          socket.write(
            head('206 Partial Content', {
              'content-length': payload.length - start,
              'content-range': `bytes ${start}-${payload.length - 1}/${total}`,
              'accept-ranges': 'bytes',
              etag: resumedEtag,
            }),
          );
          socket.write(payload.subarray(start));
          socket.end();
        } else {
          socket.write(
            head('200 OK', {
              'content-length': payload.length,
              ...(path === '/reset-norange' ? {} : { 'accept-ranges': 'bytes', etag }),
            }),
          );
          socket.write(payload.subarray(0, 120_000));
          setTimeout(() => socket.terminate(), 20);
        }
      }
    },
  },
});
const rawBase = `http://127.0.0.1:${raw.port}`;

afterAll(() => {
  origin.stop(true);
  raw.stop(true);
});

const failure = async (promise: Promise<unknown>) => promise.then(() => undefined).catch((e: unknown) => e);

describe('downloadFile streams from real loopback origins', () => {
  test('a whole file, with progress, and the buffered variant', async () => {
    const seen: [number, number | undefined][] = [];
    const download = await downloadFile(`${base}/file`, { ...open, onProgress: (d, t) => seen.push([d, t]) });
    expect(download.contentLength).toBe(payload.length);
    expect(new Uint8Array(await new Response(download.stream).arrayBuffer())).toEqual(payload);
    expect(seen.at(-1)).toEqual([payload.length, payload.length]);
    const { bytes, contentType } = await downloadBytes(`${base}/file`, open);
    expect(bytes).toEqual(payload);
    expect(contentType).toBe('application/octet-stream');
  });

  test('no Content-Length: streams, and progress has no total', async () => {
    const seen: (number | undefined)[] = [];
    const download = await downloadFile(`${base}/chunked`, { ...open, onProgress: (_d, t) => seen.push(t) });
    expect(download.contentLength).toBeUndefined();
    expect((await new Response(download.stream).arrayBuffer()).byteLength).toBe(payload.length);
    expect(seen.every((t) => t === undefined)).toBe(true);
  });

  test('the size cap refuses a declared length before the body, and an undeclared one mid-stream', async () => {
    const early = await failure(downloadFile(`${base}/file`, { ...open, maxSize: 1000 }));
    expect(early).toBeInstanceOf(FileSizeExceededError);
    expect((early as FileSizeExceededError).actualBytes).toBe(payload.length);

    const download = await downloadFile(`${rawBase}/lie-huge`, { ...open, maxSize: 1_000_000 });
    const late = await failure(new Response(download.stream).arrayBuffer());
    expect(late).toBeInstanceOf(FileSizeExceededError);
    expect((late as FileSizeExceededError).actualBytes).toBeGreaterThan(1_000_000);
  });

  test('without a maxSize the seed default of 50 MB applies', async () => {
    const download = await downloadFile(`${base}/huge`, open);
    const error = await failure(new Response(download.stream).arrayBuffer());
    expect(error).toBeInstanceOf(FileSizeExceededError);
    expect((error as FileSizeExceededError).limitBytes).toBe(50 * 1024 * 1024);
  });

  test('a body shorter than its Content-Length is an interrupted download, not a file', async () => {
    const download = await downloadFile(`${rawBase}/lie-long`, { ...open, retries: 0 });
    const error = await failure(new Response(download.stream).arrayBuffer());
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as DownloadError).code).toBe('DOWNLOAD_INTERRUPTED');
  });

  test('a body longer than its Content-Length is cut at the declared length', async () => {
    const { bytes } = await downloadBytes(`${rawBase}/lie-short`, open);
    expect(bytes).toEqual(new Uint8Array(10).fill(7));
  });

  test('the total timeout bounds the whole download', async () => {
    const download = await downloadFile(`${base}/stall`, { ...open, retries: 0, timeouts: { totalMs: 300 } });
    const error = await failure(new Response(download.stream).arrayBuffer());
    expect(error).toMatchObject({ code: 'DOWNLOAD_TIMEOUT' });
    expect((error as Error).message).toContain('took too long');
  });

  test('5xx is retried until it succeeds; 404 is not retried', async () => {
    const download = await downloadFile(`${base}/flaky?a`, open);
    expect((await new Response(download.stream).arrayBuffer()).byteLength).toBe(payload.length);
    expect(hits.get('flaky?a')).toBe(3);

    const notFound = await failure(downloadFile(`${base}/missing`, open));
    expect(notFound).toMatchObject({ code: 'DOWNLOAD_HTTP_STATUS', status: 404, attempts: 1 });
    expect(hits.get('missing')).toBe(1);

    const exhausted = await failure(downloadFile(`${base}/flaky?b`, { ...open, retries: 1 }));
    expect(exhausted).toMatchObject({ code: 'DOWNLOAD_HTTP_STATUS', status: 503, attempts: 2, transient: true });
  });

  test('onRetry hears of every retry: the failed attempt, the wait and the cause', async () => {
    const retries: DownloadRetry[] = [];
    const download = await downloadFile(`${base}/flaky?c`, { ...open, onRetry: (retry) => retries.push(retry) });
    await download.stream.cancel();
    expect(retries.map(({ attempt }) => attempt)).toEqual([1, 2]);
    expect(retries[0]?.waitMs).toBeGreaterThanOrEqual(0);
    expect(retries[0]?.cause).toMatchObject({ code: 'DOWNLOAD_HTTP_STATUS', status: 503 });
  });

  test('429 honours Retry-After; an unreasonably long Retry-After fails at once', async () => {
    const started = performance.now();
    const download = await downloadFile(`${base}/throttled?a`, open);
    expect(await new Response(download.stream).text()).toBe('ok');
    expect(performance.now() - started).toBeGreaterThanOrEqual(900);
    const error = await failure(downloadFile(`${base}/long-retry-after`, open));
    expect(error).toMatchObject({ code: 'DOWNLOAD_HTTP_STATUS', status: 503, attempts: 1 });
  });

  test('a reset mid-body resumes with Range when the server supports it', async () => {
    const download = await downloadFile(`${rawBase}/reset`, open);
    expect(new Uint8Array(await new Response(download.stream).arrayBuffer())).toEqual(payload);
  });

  test('a resume is refused unless the part is of the same file: same strong ETag, same length (attacker, session 17)', async () => {
    // A server ignoring If-Range sent the rest of another version: the two halves were stored as a file that never
    // existed at the origin, its sha256 matching the spliced bytes. Now the download fails transiently instead.
    for (const path of ['/reset-changed', '/reset-weak', '/reset-length']) {
      const download = await downloadFile(`${rawBase}${path}`, open);
      const error = await failure(new Response(download.stream).arrayBuffer());
      expect(error).toMatchObject({ code: 'DOWNLOAD_INTERRUPTED', transient: true });
    }
  });

  test('a reset mid-body without range support is a typed, transient error', async () => {
    const download = await downloadFile(`${rawBase}/reset-norange`, open);
    const error = await failure(new Response(download.stream).arrayBuffer());
    expect(error).toMatchObject({ code: 'DOWNLOAD_INTERRUPTED', transient: true });
  });

  test('a server that cannot resume (416 after a lying Content-Length) fails transiently, so a new attempt starts over', async () => {
    const download = await downloadFile(`${rawBase}/lie-long-ranged`, open);
    const error = await failure(new Response(download.stream).arrayBuffer());
    expect(error).toMatchObject({ code: 'DOWNLOAD_INTERRUPTED', transient: true, status: 416 });
    expect((error as Error).message).toContain('after 400 bytes');
  });

  test('stalls and slow responses time out', async () => {
    const download = await downloadFile(`${base}/stall`, { ...open, retries: 0, timeouts: { idleMs: 200 } });
    const stalled = await failure(new Response(download.stream).arrayBuffer());
    expect(stalled).toMatchObject({ code: 'DOWNLOAD_TIMEOUT' });
    // `fetch` has no connect event: the connection and the first byte share one limit, their sum.
    const late = await failure(
      downloadFile(`${base}/slow-headers`, { ...open, retries: 0, timeouts: { connectMs: 100, firstByteMs: 200 } }),
    );
    expect(late).toMatchObject({ code: 'DOWNLOAD_TIMEOUT', transient: true });
    expect((late as Error).message).toContain('No response within 300 ms');
  });

  test('a server that trickles (never idle, always slower than the minimum rate) is cut off once a window of waiting shows it', async () => {
    const limits = { idleMs: 300, minBytesPerSecond: 1024 };
    const download = await downloadFile(`${base}/trickle`, { ...open, retries: 0, timeouts: limits });
    const started = performance.now();
    const error = await failure(new Response(download.stream).arrayBuffer());
    expect(error).toMatchObject({ code: 'DOWNLOAD_TIMEOUT', transient: true });
    expect((error as Error).message).toContain('slower than the minimum of 1024 bytes a second');
    // Cut after about one window, not after the 3 s the trickle lasts.
    expect(performance.now() - started).toBeLessThan(2_000);
    // With no minimum, the same trickle is read to its end.
    const none = await downloadFile(`${base}/trickle`, {
      ...open,
      retries: 0,
      timeouts: { ...limits, minBytesPerSecond: 0 },
    });
    expect((await new Response(none.stream).arrayBuffer()).byteLength).toBe(600);
  });

  test('only the wait for the server counts as a stall: a reader that keeps each chunk longer than the idle limit is not cut off', async () => {
    // /chunked sends its 50,000-byte pieces promptly; the reader spends 300 ms on each of the first ones (its disk, a
    // full storing queue), longer than the 200 ms idle limit. Stalls of the server itself still end it (above).
    const download = await downloadFile(`${base}/chunked`, { ...open, retries: 0, timeouts: { idleMs: 200 } });
    const reader = download.stream.getReader();
    let bytes = 0;
    for (let reads = 0; ; reads++) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      if (reads < 3) await Bun.sleep(300);
    }
    expect(bytes).toBe(payload.length);
  });

  test("network failures are said in mediaforge's words, with their code, not the runtime's", async () => {
    const closed = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
    const port = closed.port;
    closed.stop(true);
    const refused = await failure(downloadFile(`http://127.0.0.1:${port}/x.wav`, { ...open, retries: 0 }));
    expect(refused).toMatchObject({ code: 'DOWNLOAD_NETWORK', transient: true });
    expect((refused as Error).message).toStartWith('The server refused the connection [ECONNREFUSED]');
    expect((refused as Error).message).not.toContain('Is the computer able');
  });

  test('redirect chains are followed, capped, and loops detected', async () => {
    const download = await downloadFile(`${base}/redirect?n=3`, open);
    expect(await new Response(download.stream).text()).toBe('arrived');
    expect(download.url).toBe(`${base}/redirect?…`);
    expect(await failure(downloadFile(`${base}/redirect?n=9`, { ...open, maxRedirects: 5 }))).toMatchObject({
      code: 'DOWNLOAD_REDIRECTS',
    });
    expect(await failure(downloadFile(`${base}/loop`, open))).toMatchObject({ code: 'DOWNLOAD_REDIRECTS' });
    expect(await failure(downloadFile(`${rawBase}/bad-location`, open))).toMatchObject({
      code: 'DOWNLOAD_REDIRECTS',
      message: expect.stringContaining('no valid URL'),
    });
  });

  test('cancelling with the signal stops the download', async () => {
    const controller = new AbortController();
    const download = await downloadFile(`${base}/stall`, { ...open, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    expect(await failure(new Response(download.stream).arrayBuffer())).toMatchObject({ code: 'DOWNLOAD_ABORTED' });
  });
});

describe('the SSRF guard holds in the downloader', () => {
  test('loopback origins are refused without the opt-in, before connecting', async () => {
    const before = hits.get('missing') ?? 0;
    const error = await failure(downloadFile(`${base}/missing`));
    expect(error).toBeInstanceOf(UrlNotAllowedError);
    expect(hits.get('missing') ?? 0).toBe(before);
  });

  test('a redirect to a metadata address is refused even when the first hop was allowed', async () => {
    const error = await failure(downloadFile(`${base}/to-metadata`, { policy: { allowHosts: ['127.0.0.1'] } }));
    expect(error).toBeInstanceOf(UrlNotAllowedError);
    expect((error as Error).message).toContain('169.254.169.254');
  });

  test('an allowed host with a port reaches that port, by IP or by a name resolved to a private address', async () => {
    const resolve = async () => [{ address: '127.0.0.1', family: 4 }];
    for (const [url, allowHosts] of [
      [`${base}/file`, [`127.0.0.1:${origin.port}`]],
      [`http://nas.mediaforge.test:${origin.port}/file`, [`nas.mediaforge.test:${origin.port}`]],
    ] as const) {
      const download = await downloadFile(url, { policy: { allowHosts, resolve } });
      expect((await new Response(download.stream).arrayBuffer()).byteLength).toBe(payload.length);
      const elsewhere = [allowHosts[0].replace(`:${origin.port}`, `:${Number(origin.port) + 1}`)];
      expect(await failure(downloadFile(url, { policy: { allowHosts: elsewhere, resolve } }))).toBeInstanceOf(
        UrlNotAllowedError,
      );
    }
  });

  test('the connection uses the checked address: a name only our resolver knows still connects', async () => {
    // The system resolver cannot resolve this name; the request only works if node:http connects through the
    // guard's lookup (the address it checked), which proves the check and the connection cannot diverge.
    const resolve = async () => [{ address: '127.0.0.1', family: 4 }];
    const download = await downloadFile(`http://origin.mediaforge.test:${origin.port}/file`, {
      policy: { allowPrivate: true, resolve },
    });
    expect((await new Response(download.stream).arrayBuffer()).byteLength).toBe(payload.length);
    // And without the opt-in the same name is refused after resolution.
    const refused = await failure(
      downloadFile(`http://origin.mediaforge.test:${origin.port}/file`, { policy: { resolve } }),
    );
    expect(refused).toBeInstanceOf(UrlNotAllowedError);
    expect((refused as Error).message).toContain('resolves to a loopback address');
  });
});
