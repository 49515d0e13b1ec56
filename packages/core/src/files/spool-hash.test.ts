/**
 * The spool hasher (spool-hash.ts): a real worker thread reading a real file behind its writer, and prepare's use of
 * it and of `releaseChunk` (a stream's chunks are freed once written only when the pipeline owns them).
 */
import { expect, test } from 'bun:test';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesizeWav } from '../media/synth/audio.ts';
import { releaseChunk } from '../memory.ts';
import { withPreparedFile } from './prepare.ts';
import { createSpoolHasher, spoolHasher } from './spool-hash.ts';

const MiB = 1024 * 1024;
const sha256 = (bytes: Uint8Array) => new Bun.CryptoHasher('sha256').update(bytes).digest('hex');
const scratch = () => mkdtempSync(join(tmpdir(), 'mediaforge-spool-hash-'));

test('the thread hashes a file as it grows, and the digest covers exactly the bytes asked for', async () => {
  const path = join(scratch(), 'spool');
  const parts = [0, 1, 2].map(() => crypto.getRandomValues(new Uint8Array(MiB + 7)));
  writeFileSync(path, new Uint8Array());
  const hash = await spoolHasher.follow(path);
  expect(hash).toBeDefined();
  let size = 0;
  for (const part of parts) {
    appendFileSync(path, part);
    size += part.byteLength;
    hash?.grown(size);
  }
  // More bytes on disk than the digest asks for: only the first `size` count.
  appendFileSync(path, new Uint8Array(100));
  const whole = new Uint8Array(size);
  for (const [i, part] of parts.entries()) whole.set(part, i * (MiB + 7));
  expect(await hash?.digest(size)).toBe(sha256(whole));
});

test('a spool shorter than the size asked for fails its digest instead of hashing too little', async () => {
  const path = join(scratch(), 'spool');
  writeFileSync(path, new Uint8Array(1000));
  const hash = await spoolHasher.follow(path);
  await expect(hash?.digest(2000) ?? Promise.resolve('')).rejects.toThrow(/ended at 1000 of 2000 bytes/);
});

test('a spool that vanished fails at once, and other spools hash on', async () => {
  const dir = scratch();
  const gone = await spoolHasher.follow(join(dir, 'missing'));
  await expect(gone?.digest(1) ?? Promise.resolve('')).rejects.toThrow(/hashing the spool failed/);
  const path = join(dir, 'present');
  writeFileSync(path, 'abc');
  const hash = await spoolHasher.follow(path);
  expect(await hash?.digest(3)).toBe(sha256(new TextEncoder().encode('abc')));
});

test('where no hashing thread can start, follow says so and the caller hashes itself', async () => {
  const hasher = createSpoolHasher(new URL('./no-such-worker.ts', import.meta.url));
  expect(await hasher.follow(join(scratch(), 'spool'))).toBeUndefined();
  expect(await hasher.follow(join(scratch(), 'spool'))).toBeUndefined();
});

test('releaseChunk frees a chunk that is its whole buffer, and never a slice of a larger one', () => {
  const whole = new Uint8Array(64 * 1024).fill(1);
  expect(releaseChunk(whole)).toBe(true);
  expect(whole.byteLength).toBe(0);
  expect(releaseChunk(whole)).toBe(false);
  const larger = new Uint8Array(1024).fill(2);
  const slice = larger.subarray(0, 512);
  expect(releaseChunk(slice)).toBe(false);
  expect(larger.byteLength).toBe(1024);
  expect(releaseChunk(new Uint8Array(new SharedArrayBuffer(16)))).toBe(false);
});

/** A valid WAV of `size` bytes, as a stream of 64 KiB chunks the test keeps references to. */
async function wavChunks(size: number): Promise<{ chunks: Uint8Array[]; bytes: Uint8Array; lengths: number[] }> {
  const bytes = new Uint8Array(await new Response(synthesizeWav(size, size)).arrayBuffer());
  const chunks: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.byteLength; offset += 64 * 1024) {
    chunks.push(bytes.slice(offset, offset + 64 * 1024));
  }
  return { chunks, bytes, lengths: chunks.map((chunk) => chunk.byteLength) };
}

const streamOf = (chunks: Uint8Array[]) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });

test('prepare hashes a multi-MiB body on the thread, frees chunks it owns, and leaves a caller’s chunks alone', async () => {
  const home = scratch();
  const { chunks, bytes } = await wavChunks(3 * MiB + 44);
  const owned = await withPreparedFile(streamOf(chunks), { home, ownsChunks: true }, async (file) => file.sha256);
  expect(owned).toBe(sha256(bytes));
  expect(chunks.every((chunk) => chunk.byteLength === 0)).toBe(true);

  const kept = await wavChunks(3 * MiB + 44);
  const sha = await withPreparedFile(streamOf(kept.chunks), { home }, async (file) => file.sha256);
  expect(sha).toBe(sha256(kept.bytes));
  expect(kept.chunks.map((chunk) => chunk.byteLength)).toEqual(kept.lengths);
});

test('a body of one write is hashed in place and gives the same hash', async () => {
  const { chunks, bytes } = await wavChunks(200 * 1024 + 44);
  const sha = await withPreparedFile(
    streamOf(chunks),
    { home: scratch(), ownsChunks: true },
    async (file) => file.sha256,
  );
  expect(sha).toBe(sha256(bytes));
});

test('a body smaller than one spool write is kept in memory: no spool file is made for it', async () => {
  const home = scratch();
  const { bytes, chunks } = await wavChunks(100 * 1024 + 44);
  const seen = await withPreparedFile(streamOf(chunks), { home, ownsChunks: true }, async (file) => ({
    spool: file.spool,
    body: file.body(),
    sha256: file.sha256,
  }));
  expect(seen.spool).toBeUndefined();
  expect(seen.body instanceof Uint8Array && sha256(seen.body)).toBe(sha256(bytes));
  expect(seen.sha256).toBe(sha256(bytes));
  expect(existsSync(join(home, 'tmp'))).toBe(false);
});

test('the spool is removed after use unless a store took it over', async () => {
  const home = scratch();
  const { chunks } = await wavChunks(2 * 1024 * 1024 + 44);
  await withPreparedFile(streamOf(chunks), { home, ownsChunks: true }, async () => {});
  expect(readdirSync(join(home, 'tmp'))).toEqual([]);
  const moved = join(home, 'moved.wav');
  const again = await wavChunks(2 * 1024 * 1024 + 44);
  await withPreparedFile(streamOf(again.chunks), { home }, async (file) => {
    if (!file.spool) throw new Error('a WAV is stored from its spool');
    renameSync(file.spool.path, moved);
    file.spool.taken = true;
  });
  expect(readdirSync(join(home, 'tmp'))).toEqual([]);
  expect(sha256(await Bun.file(moved).bytes())).toBe(sha256(again.bytes));
});
