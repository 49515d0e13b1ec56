/**
 * Worker-thread entry of the spool hasher (spool-hash.ts): SHA-256 of spool files as they grow, read back from the
 * page cache behind the writer, so the event loop that receives the bytes never hashes them. One thread serves every
 * spool of the process; reads are synchronous here (this thread does nothing else) into one reused buffer.
 */
import { closeSync, openSync, readSync } from 'node:fs';

export type HashRequest =
  | { type: 'open'; id: number; path: string }
  /** The spool now holds at least `size` bytes; `end` also asks for the digest of exactly `size` bytes. */
  | { type: 'grow' | 'end'; id: number; size: number }
  | { type: 'close'; id: number };

export type HashReply =
  | { type: 'ready' }
  | { type: 'digest'; id: number; sha256: string }
  | { type: 'failed'; id: number; message: string };

declare const self: Worker;

const READ_BYTES = 1024 * 1024;
const buffer = new Uint8Array(READ_BYTES);
const spools = new Map<number, { fd: number; hashed: number; hash: Bun.CryptoHasher }>();

const reply = (message: HashReply) => self.postMessage(message);

function close(id: number): void {
  const spool = spools.get(id);
  if (!spool) return;
  spools.delete(id);
  closeSync(spool.fd);
}

self.onmessage = (event: MessageEvent<HashRequest>) => {
  const request = event.data;
  try {
    if (request.type === 'open') {
      spools.set(request.id, { fd: openSync(request.path, 'r'), hashed: 0, hash: new Bun.CryptoHasher('sha256') });
      return;
    }
    if (request.type === 'close') return close(request.id);
    const spool = spools.get(request.id);
    // A spool that failed earlier was closed and its failure already reported.
    if (!spool) return;
    while (spool.hashed < request.size) {
      const read = readSync(spool.fd, buffer, 0, Math.min(READ_BYTES, request.size - spool.hashed), spool.hashed);
      if (read === 0) throw new Error(`the spool ended at ${spool.hashed} of ${request.size} bytes`);
      spool.hash.update(buffer.subarray(0, read));
      spool.hashed += read;
    }
    if (request.type === 'end') {
      const sha256 = spool.hash.digest('hex');
      close(request.id);
      reply({ type: 'digest', id: request.id, sha256 });
    }
  } catch (error) {
    try {
      close(request.id);
    } catch {
      // The descriptor is gone already; the failure below is what matters.
    }
    reply({ type: 'failed', id: request.id, message: error instanceof Error ? error.message : String(error) });
  }
};

reply({ type: 'ready' });
