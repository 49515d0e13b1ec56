/**
 * A loopback origin that misbehaves on purpose, written on raw TCP so it can do what a polite server cannot: lie
 * about Content-Length, reset mid-body, stall, drip. Every file it serves is real media (synthesized by core) with a
 * known sha256, so what lands in storage can be checked byte for byte.
 *
 * Good files live at `/f/<name>`. A request for one meets a fault with probability `faultRate`; the faults are
 * transient, so a retry (the downloader's or the queue's) gets the file. Bad files fail for good:
 * `/bad/missing/…` 404, `/bad/loop/…` redirects to itself, `/bad/elf/…` is not media, `/bad/truncated/…` is a
 * WAV cut short.
 */
import { createHash } from 'node:crypto';
import { synthesize } from '@mediaforge/core';
import type { Socket } from 'bun';
import { seededRandom, Tally } from './net.ts';

export const ORIGIN_FAULTS = [
  '503 Service Unavailable',
  '500 Internal Server Error',
  '429 with Retry-After',
  'reset mid-body',
  'Content-Length longer than the body',
  'stall mid-body',
  'slow drip',
  'wrong Content-Type',
  'redirect hop',
] as const;
export type OriginFault = (typeof ORIGIN_FAULTS)[number];

export const BAD_KINDS = {
  missing: 'DOWNLOAD_HTTP_STATUS',
  loop: 'DOWNLOAD_REDIRECTS',
  elf: 'FILE_TYPE_NOT_SUPPORTED',
  truncated: 'INTEGRITY_ERROR',
} as const;
export type BadKind = keyof typeof BAD_KINDS;

export interface OriginFile {
  bytes: Uint8Array;
  sha256: string;
  contentType: string;
}

export interface FaultOrigin {
  base: string;
  files: Map<string, OriginFile>;
  /** Faults injected, by kind. */
  faults: Tally;
  requests: Tally;
  /** Turns faults on or off (the verification afterwards reads without them). */
  setFaultRate(rate: number): void;
  close(): void;
}

export interface OriginOptions {
  seed: number;
  faultRate: number;
  /** How long a stalled response hangs: longer than the workers' DOWNLOAD_TIMEOUT_SECONDS. */
  stallMs: number;
  /** A WAV whose first half `/bad/truncated/…` serves. */
  truncated: OriginFile;
}

export async function synthesizeFile(kind: 'wav' | 'text', sizeBytes: number, seed: number): Promise<OriginFile> {
  const made = await synthesize({
    mediaType: kind === 'wav' ? 'audio' : 'text',
    ...(kind === 'wav' ? { format: 'wav' } : {}),
    sizeBytes,
    seed,
  });
  const bytes = new Uint8Array(await new Response(made.stream).arrayBuffer());
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex'), contentType: made.contentType };
}

interface Conn {
  buffer: string;
  handled: boolean;
}

export function startFaultOrigin(files: Map<string, OriginFile>, options: OriginOptions): FaultOrigin {
  const random = seededRandom(options.seed);
  let faultRate = options.faultRate;
  const faults = new Tally();
  const requests = new Tally();
  const elf = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, ...new Array(56).fill(0)]);

  const head = (status: string, headers: Record<string, string | number>) =>
    new TextEncoder().encode(
      `HTTP/1.1 ${status}\r\n${Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('')}connection: close\r\n\r\n`,
    );

  function respond(socket: Socket<Conn>, method: string, path: string, headers: Map<string, string>): void {
    const bad = /^\/bad\/(\w+)\/(.+)$/.exec(path);
    if (bad) {
      requests.add(`bad ${bad[1]}`);
      if (bad[1] === 'loop') {
        socket.write(head('302 Found', { location: path, 'content-length': 0 }));
      } else if (bad[1] === 'elf') {
        socket.write(head('200 OK', { 'content-type': 'audio/wav', 'content-length': elf.length }));
        socket.write(elf);
      } else if (bad[1] === 'truncated') {
        // Half of a WAV whatever the name: a text cut in half can still be valid text.
        const cut = options.truncated.bytes.subarray(0, Math.floor(options.truncated.bytes.length / 2));
        socket.write(head('200 OK', { 'content-type': 'audio/wav', 'content-length': cut.length }));
        socket.write(cut);
      } else {
        socket.write(head('404 Not Found', { 'content-length': 0 }));
      }
      socket.end();
      return;
    }
    const redirected = path.startsWith('/r/');
    const name = path.replace(/^\/[fr]\//, '');
    const file = files.get(name);
    if (!file || !(path.startsWith('/f/') || redirected)) {
      socket.write(head('404 Not Found', { 'content-length': 0 }));
      socket.end();
      return;
    }
    requests.add(method === 'HEAD' ? 'head' : headers.has('range') ? 'range' : 'get');
    const range = /bytes=(\d+)-/.exec(headers.get('range') ?? '');
    const start = range ? Number(range[1]) : 0;
    const etag = `"${file.sha256.slice(0, 16)}"`;
    const common = { 'accept-ranges': 'bytes', etag };
    if (start >= file.bytes.length && range) {
      socket.write(head('416 Range Not Satisfiable', { 'content-range': `bytes */${file.bytes.length}`, ...common }));
      socket.end();
      return;
    }
    const body = file.bytes.subarray(start);
    const status = range ? '206 Partial Content' : '200 OK';
    const okHeaders = {
      'content-type': file.contentType,
      'content-length': body.length,
      ...(range ? { 'content-range': `bytes ${start}-${file.bytes.length - 1}/${file.bytes.length}` } : {}),
      ...common,
    };
    const fault: OriginFault | undefined =
      !redirected && random() < faultRate ? ORIGIN_FAULTS[Math.floor(random() * ORIGIN_FAULTS.length)] : undefined;
    if (fault) faults.add(fault);
    const half = Math.max(1, Math.floor(body.length / 2));
    switch (fault) {
      case '503 Service Unavailable':
      case '500 Internal Server Error':
        socket.write(head(fault, { 'content-length': 0 }));
        socket.end();
        return;
      case '429 with Retry-After':
        socket.write(head('429 Too Many Requests', { 'retry-after': 1, 'content-length': 0 }));
        socket.end();
        return;
      case 'reset mid-body':
        socket.write(head(status, okHeaders));
        socket.write(body.subarray(0, half));
        setTimeout(() => socket.terminate(), 5);
        return;
      case 'Content-Length longer than the body':
        socket.write(head(status, { ...okHeaders, 'content-length': body.length + 4096 }));
        socket.write(body);
        socket.end();
        return;
      case 'stall mid-body':
        socket.write(head(status, okHeaders));
        socket.write(body.subarray(0, half));
        setTimeout(() => socket.end(), options.stallMs);
        return;
      case 'slow drip':
        socket.write(head(status, okHeaders));
        drip(socket, body, 0);
        return;
      case 'wrong Content-Type':
        socket.write(head(status, { ...okHeaders, 'content-type': 'text/html; charset=utf-8' }));
        socket.write(body);
        socket.end();
        return;
      case 'redirect hop':
        socket.write(head('302 Found', { location: `/r/${name}`, 'content-length': 0 }));
        socket.end();
        return;
      default:
        socket.write(head(status, okHeaders));
        socket.write(body);
        socket.end();
    }
  }

  /** 4 KiB every 10 ms: slow, never idle long enough to time out. */
  function drip(socket: Socket<Conn>, body: Uint8Array, offset: number): void {
    if (offset >= body.length) {
      socket.end();
      return;
    }
    socket.write(body.subarray(offset, offset + 4096));
    setTimeout(() => drip(socket, body, offset + 4096), 10);
  }

  const server = Bun.listen<Conn>({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      open(socket) {
        socket.data = { buffer: '', handled: false };
      },
      data(socket, data) {
        if (socket.data.handled) return;
        socket.data.buffer += data.toString('latin1');
        const end = socket.data.buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.data.handled = true;
        const [line = '', ...rest] = socket.data.buffer.slice(0, end).split('\r\n');
        const [method = 'GET', target = '/'] = line.split(' ');
        const headers = new Map(
          rest.map((header) => {
            const colon = header.indexOf(':');
            return [header.slice(0, colon).trim().toLowerCase(), header.slice(colon + 1).trim()] as const;
          }),
        );
        respond(socket, method, target, headers);
      },
      error() {},
    },
  });
  return {
    base: `http://127.0.0.1:${server.port}`,
    files,
    faults,
    requests,
    setFaultRate(rate) {
      faultRate = rate;
    },
    close: () => server.stop(true),
  };
}
