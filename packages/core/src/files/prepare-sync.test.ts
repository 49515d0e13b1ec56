import { expect, test } from 'bun:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withPreparedFile } from './prepare.ts';

/** A valid 16-bit stereo WAV of `dataBytes` of PCM, streamed in 1 MiB chunks. */
function wavStream(dataBytes: number): { stream: ReadableStream<Uint8Array>; sha256: string } {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write('WAVEfmt ', 8, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(2, 22);
  header.writeUInt32LE(44_100, 24);
  header.writeUInt32LE(44_100 * 4, 28);
  header.writeUInt16LE(4, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(dataBytes, 40);
  const block = crypto.getRandomValues(new Uint8Array(1024 * 1024));
  const chunks: Uint8Array[] = [header];
  for (let offset = 0; offset < dataBytes; offset += block.byteLength) {
    chunks.push(block.slice(0, Math.min(block.byteLength, dataBytes - offset)));
  }
  const hash = new Bun.CryptoHasher('sha256');
  for (const chunk of chunks) hash.update(chunk);
  let next = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[next++];
      if (chunk) controller.enqueue(chunk);
      else controller.close();
    },
  });
  return { stream, sha256: hash.digest('hex') };
}

test('syncWhileSpooling: a body past several sync intervals spools whole, with its hash, and the spool is kept for the store', async () => {
  const dataBytes = 70 * 1024 * 1024;
  const { stream, sha256 } = wavStream(dataBytes);
  const home = mkdtempSync(join(tmpdir(), 'mediaforge-sync-spool-'));
  const seen = await withPreparedFile(stream, { home, syncWhileSpooling: true }, async (file) => {
    const spooled = file.spool ? await Bun.file(file.spool.path).arrayBuffer() : undefined;
    const onDisk = spooled ? new Bun.CryptoHasher('sha256').update(spooled).digest('hex') : undefined;
    return { size: file.size, sha256: file.sha256, onDisk };
  });
  expect(seen).toEqual({ size: dataBytes + 44, sha256, onDisk: sha256 });
}, 120_000);
