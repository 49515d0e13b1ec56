/**
 * Helpers for the TUS tests: a PCM WAV of any size, a TCP proxy that cuts one connection mid-upload, and API servers on
 * loopback with their own home and in-memory database.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '@mediaforge/api';
import { ApiKeyStore, createLogger, loadSettings, openDatabase } from '@mediaforge/core';
import { openObjectStore } from '@mediaforge/storage';
import type { Socket } from 'bun';

/** A valid 16-bit mono 44.1 kHz WAV of about `bytes` bytes (a tone with a seed, so each file is distinct). */
export function wavOfSize(bytes: number, seed = 1): Uint8Array {
  const samples = Math.floor((bytes - 44) / 2);
  const out = new Uint8Array(44 + samples * 2);
  const view = new DataView(out.buffer);
  const text = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) out[at + i] = s.charCodeAt(i);
  };
  text(0, 'RIFF');
  view.setUint32(4, 36 + samples * 2, true);
  text(8, 'WAVE');
  text(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, 44_100, true);
  view.setUint32(28, 88_200, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  text(36, 'data');
  view.setUint32(40, samples * 2, true);
  for (let i = 0; i < samples; i++) {
    view.setInt16(44 + i * 2, Math.round(8000 * Math.sin((i * (440 + seed)) / 7018)), true);
  }
  return out;
}

export interface CuttingProxy {
  url: string;
  /** Connections cut so far. */
  readonly cuts: number;
  /** The request lines the proxy saw, e.g. `HEAD /v1/uploads/…`. */
  requests: string[];
  /** The Upload-Offset of each PATCH, in order. */
  patchOffsets: number[];
  stop(): void;
}

type Sock = Socket<Pair>;
interface Pair {
  peer?: Sock;
  queue: Uint8Array[];
  patched: number;
  patch: boolean;
  client: boolean;
  /** Cut: nothing more is forwarded. */
  cut?: boolean;
}

/** Writes all of `chunk` to `to`, queueing what the socket does not take now (written on drain). */
function forward(to: Sock, chunk: Uint8Array): void {
  if (to.data.queue.length > 0) {
    to.data.queue.push(new Uint8Array(chunk));
    return;
  }
  const written = to.write(chunk);
  if (written < chunk.byteLength) to.data.queue.push(new Uint8Array(chunk.subarray(Math.max(written, 0))));
}

function drain(socket: Sock): void {
  while (socket.data.queue.length > 0) {
    const head = socket.data.queue[0] as Uint8Array;
    const written = socket.write(head);
    if (written < head.byteLength) {
      socket.data.queue[0] = head.subarray(Math.max(written, 0));
      return;
    }
    socket.data.queue.shift();
  }
}

/**
 * A real TCP proxy in front of `target`: it forwards bytes both ways and, once, closes both ends of the first
 * connection carrying a PATCH after `cutAfter` bytes of it went through — a dropped connection mid-upload.
 */
export function startCuttingProxy(target: URL, cutAfter: number): CuttingProxy {
  const state = { cuts: 0, requests: [] as string[], patchOffsets: [] as number[] };
  const server = Bun.listen<Pair>({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      async open(client) {
        client.data = { queue: [], patched: 0, patch: false, client: true };
        client.pause();
        const upstream = await Bun.connect<Pair>({
          hostname: target.hostname,
          port: Number(target.port),
          data: { queue: [], patched: 0, patch: false, client: false, peer: client },
          socket: {
            data: (_s, chunk) => {
              if (!client.data.cut) forward(client, chunk);
            },
            drain,
            close: () => void client.end(),
            error: () => void client.end(),
          },
        });
        client.data.peer = upstream;
        client.resume();
      },
      data(client, chunk) {
        const pair = client.data;
        if (pair.cut) return;
        const upstream = pair.peer as Sock;
        const head = Buffer.from(chunk.subarray(0, 2000)).toString('latin1');
        const line = /^([A-Z]+ \S+) HTTP\/1\.1/.exec(head);
        if (line?.[1]) {
          state.requests.push(line[1]);
          pair.patch = line[1].startsWith('PATCH');
          const offset = /\r\nupload-offset: *(\d+)/i.exec(head);
          if (pair.patch && offset?.[1]) state.patchOffsets.push(Number(offset[1]));
        }
        if (pair.patch && state.cuts === 0) {
          pair.patched += chunk.byteLength;
          if (pair.patched > cutAfter) {
            state.cuts += 1;
            pair.cut = true;
            forward(upstream, chunk.subarray(0, chunk.byteLength - (pair.patched - cutAfter)));
            // Give the partial bytes a moment to reach the server, then drop both ends without a goodbye.
            setTimeout(() => {
              upstream.terminate();
              client.terminate();
            }, 50);
            return;
          }
        }
        forward(upstream, chunk);
      },
      drain,
      close(client) {
        client.data.peer?.end();
      },
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    get cuts() {
      return state.cuts;
    },
    requests: state.requests,
    patchOffsets: state.patchOffsets,
    stop: () => server.stop(true),
  };
}

/** An API server on loopback with its own home, in-memory database and the store its settings name. */
export async function startDeployment(env: Record<string, string>) {
  const home = mkdtempSync(join(tmpdir(), 'mediaforge-tus-'));
  const settings = loadSettings({ env: { MEDIAFORGE_HOME: home, LOG_LEVEL: 'silent', ...env } });
  const database = await openDatabase();
  await database.migrate();
  const server = startServer({
    database,
    store: openObjectStore(settings),
    settings,
    logger: createLogger({ level: 'silent' }),
    port: 0,
    host: '127.0.0.1',
  });
  return { settings, database, server, base: server.url.origin };
}

/** A server of its own on `env`, with alice's key and one audio record; `stop` ends it. */
export async function serverWith(env: Record<string, string>) {
  const { settings, database, server } = await startDeployment(env);
  const key = (await new ApiKeyStore(database.db).create({ userId: 'alice' })).key;
  const headers = { Authorization: `Bearer ${key}` };
  const made = await fetch(`${server.url.origin}/v1/records`, {
    method: 'POST',
    headers: { ...headers, 'Content-Type': 'application/json' },
    body: JSON.stringify({ mediaType: 'audio' }),
  });
  const { uid } = (await made.json()) as { uid: string };
  return {
    base: server.url.origin,
    headers,
    uid,
    settings,
    database,
    stop: async () => {
      await server.stop(true);
      await database.close();
    },
  };
}
