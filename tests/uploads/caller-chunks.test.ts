/**
 * `storeUpload` from the library frees a body's chunks once written only when the caller says they are its to free
 * (`ownsChunks`, decision 0049): a stream over bytes the caller still holds is stored exactly and left intact.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { RecordRepository, records, storeUpload, userScope } from '@mediaforge/core';
import { describeBackends } from '@mediaforge/core/testing';
import type { ObjectStore } from '@mediaforge/storage';
import { eq } from 'drizzle-orm';
import { storeFor, testSettings } from '../integrity/support.ts';

/** 1.5 MiB of text (past the 1 MiB the spool hashes in place) as 64 KiB chunks, each its own buffer. */
function chunksOfText(seed: string): { chunks: Uint8Array[]; sha256: string } {
  const text = new TextEncoder().encode(`${seed} `.repeat(Math.ceil((1.5 * 1024 * 1024) / (seed.length + 1))));
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < text.byteLength; at += 64 * 1024) chunks.push(text.slice(at, at + 64 * 1024));
  return { chunks, sha256: new Bun.CryptoHasher('sha256').update(text).digest('hex') };
}

const streamOver = (chunks: readonly Uint8Array[]) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });

describeBackends('storeUpload and the caller’s chunks', (backend) => {
  let store: ObjectStore;
  let close = async () => {};
  const settings = testSettings();
  beforeAll(async () => {
    ({ store, close } = await storeFor(backend.kind));
  });
  afterAll(() => close());

  const upload = async (seed: string, ownsChunks: boolean) => {
    const db = backend.database().db;
    const scope = userScope('chunk-owner');
    const [record] = await new RecordRepository(db).createMany([{ mediaType: 'text' }], scope);
    const { chunks, sha256 } = chunksOfText(seed);
    const lengths = chunks.map((chunk) => chunk.byteLength);
    const uid = record?.uid as string;
    await storeUpload(uid, streamOver(chunks), { db, store, settings, scope, compress: false, ownsChunks });
    const [stored] = await db.select().from(records).where(eq(records.uid, uid));
    return { chunks, lengths, sha256, stored: stored?.sha256 };
  };

  test('without ownsChunks the caller’s chunks are left whole', async () => {
    const { chunks, lengths, sha256, stored } = await upload(`kept-${backend.kind}`, false);
    expect(stored).toBe(sha256);
    expect(chunks.map((chunk) => chunk.byteLength)).toEqual(lengths);
  });

  test('with ownsChunks each chunk is freed once written, and the file is stored exactly', async () => {
    const { chunks, sha256, stored } = await upload(`owned-${backend.kind}`, true);
    expect(stored).toBe(sha256);
    expect(chunks.every((chunk) => chunk.byteLength === 0)).toBe(true);
  });
});
