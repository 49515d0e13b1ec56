import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ALL_USERS,
  processFileBatch,
  processUrl,
  RecordRepository,
  readAll,
  sha256Hex,
  uploadGenerationResult,
  validateFileIntegrity,
} from '@mediaforge/core';
import { describeBackends } from '@mediaforge/core/testing';
import { createFileStore, createS3Store, type ObjectStore } from '@mediaforge/storage';
import { S3RVER_CREDENTIALS, startS3Server, type TestS3Server } from '@mediaforge/storage/testing';

const FIXTURES = join(import.meta.dir, '../../packages/core/test/fixtures');

/** A 1.5 MiB PCM WAV of random samples: larger than one spool write (1 MiB), so it is spooled to disk. */
function largeWav(): Uint8Array<ArrayBuffer> {
  const dataBytes = 1.5 * 1024 * 1024;
  const wav = new Uint8Array(44 + dataBytes);
  const view = new DataView(wav.buffer);
  const ascii = (at: number, text: string) => wav.set(new TextEncoder().encode(text), at);
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + dataBytes, true);
  ascii(8, 'WAVEfmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 2, true); // stereo
  view.setUint32(24, 44_100, true);
  view.setUint32(28, 44_100 * 4, true);
  view.setUint16(32, 4, true);
  view.setUint16(34, 16, true);
  ascii(36, 'data');
  view.setUint32(40, dataBytes, true);
  for (let at = 44; at < wav.length; at += 65_536)
    crypto.getRandomValues(wav.subarray(at, Math.min(at + 65_536, wav.length)));
  return wav;
}
const LARGE_WAV = largeWav();

/** A distinct 4 KiB WAV per `seed`: the large one's header, sized down, with the seed as its samples. */
function smallWav(seed: string): Uint8Array<ArrayBuffer> {
  const wav = LARGE_WAV.slice(0, 44 + 4096);
  const view = new DataView(wav.buffer);
  view.setUint32(4, 36 + 4096, true);
  view.setUint32(40, 4096, true);
  wav.set(new TextEncoder().encode(seed.padEnd(64, '.')), 44);
  return wav;
}
const slow = { active: 0, most: 0 };
const hits = new Map<string, number>();

// A real HTTP origin on loopback serving the media fixture corpus. The pipeline is pointed at it with
// allowHosts: ['127.0.0.1'], so every other non-public address (the metadata one below) stays refused.
const origin = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  async fetch(request) {
    const path = new URL(request.url).pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (path === '/missing.mp3') return new Response('gone', { status: 404 });
    if (path === '/large.wav') return new Response(LARGE_WAV);
    if (path.startsWith('/slow/')) {
      // Counts the requests it is answering at once; each takes a while and is a distinct small WAV.
      slow.active += 1;
      slow.most = Math.max(slow.most, slow.active);
      await Bun.sleep(15);
      slow.active -= 1;
      return new Response(smallWav(path));
    }
    if (path === '/redirect-to-metadata') return Response.redirect('http://169.254.169.254/latest/meta-data/', 302);
    const name = path.replace(/^\/(copy\/)?/, '');
    const file = Bun.file(join(FIXTURES, name));
    if (!(await file.exists())) return new Response('no such fixture', { status: 404 });
    // No Content-Type for most: the pipeline must go by content, not by what the server says.
    return new Response(file.stream(), { headers: name.endsWith('.txt') ? { 'content-type': 'text/plain' } : {} });
  },
});
const at = (path: string) => `http://127.0.0.1:${origin.port}/${path}`;
afterAll(() => origin.stop(true));

describeBackends('processFileBatch', (backend) => {
  let s3: TestS3Server | undefined;
  let store: ObjectStore;
  let home = '';
  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'mediaforge-ingest-'));
    if (backend.kind === 'postgres') {
      s3 = await startS3Server();
      store = createS3Store({ bucket: s3.bucket, endpoint: s3.endpoint, ...S3RVER_CREDENTIALS });
    } else {
      store = createFileStore({ root: join(home, 'objects') });
    }
  });
  afterAll(async () => s3?.close());

  const context = (overrides = {}) => ({
    db: backend.database().db,
    store,
    settings: { maxFileSizeBytes: 2 * 1024 * 1024, maxBatchSize: 50, home },
    policy: { allowHosts: ['127.0.0.1'] },
    download: { backoffMs: 5, retries: 1 },
    ...overrides,
  });

  test('a mixed batch: good, duplicate, bad, unsupported, corrupted, huge and hostile URLs', async () => {
    const urls = [
      at('fixture.mp3'),
      at('fixture.jpg'),
      at('fixture.mp4'),
      at('fixture.txt'),
      at('copy/fixture.mp3'), // same content as the first, another URL
      at('missing.mp3'),
      at('negative/document.pdf'),
      at('negative/truncated.mp3'),
      at('negative/wrong-extension.jpg'),
      'http://169.254.169.254/latest/meta-data/',
      at('redirect-to-metadata'),
      'file:///etc/passwd',
    ];
    const progress: number[] = [];
    const result = await processFileBatch({
      ...context(),
      userId: `user-${backend.kind}`,
      generationId: 'gen-1',
      urls,
      maxConcurrent: 1,
      onProgress: (completed) => progress.push(completed),
    });
    expect(progress).toEqual(urls.map((_, i) => i + 1));
    expect(result.totalFiles).toBe(urls.length);
    expect(result.success).toBe(false);

    const codes = Object.fromEntries(result.failedFiles.map((f) => [f.url, f.code]));
    expect(codes).toEqual({
      [at('missing.mp3')]: 'DOWNLOAD_HTTP_STATUS',
      [at('negative/document.pdf')]: 'FILE_TYPE_NOT_SUPPORTED',
      [at('negative/truncated.mp3')]: 'INTEGRITY_ERROR',
      'http://169.254.169.254/latest/meta-data/': 'URL_NOT_ALLOWED',
      [at('redirect-to-metadata')]: 'URL_NOT_ALLOWED',
      'file:///etc/passwd': 'URL_NOT_ALLOWED',
    });

    const byUrl = Object.fromEntries(result.processedFiles.map((f) => [f.sourceUrl, f]));
    expect(Object.keys(byUrl).sort()).toEqual(
      [
        at('fixture.mp3'),
        at('fixture.jpg'),
        at('fixture.mp4'),
        at('fixture.txt'),
        at('copy/fixture.mp3'),
        at('negative/wrong-extension.jpg'),
      ].sort(),
    );
    // Detected by content: the "jpg" that is really something else is stored under its real type.
    const wrong = byUrl[at('negative/wrong-extension.jpg')];
    expect(wrong?.storageKey.endsWith('.jpg')).toBe(false);

    // Dedupe: the second copy points at the first one's object; one object stored for the content.
    const first = byUrl[at('fixture.mp3')];
    const copy = byUrl[at('copy/fixture.mp3')];
    expect(copy?.duplicateOf).toBe(first?.recordUid);
    expect(copy?.storageKey).toBe(first?.storageKey);

    const repository = new RecordRepository(backend.database().db);
    for (const file of result.processedFiles) {
      const record = await repository.get(file.recordUid, ALL_USERS);
      expect(record).toMatchObject({
        status: 'uploaded',
        source: 'url',
        sourceUrl: file.sourceUrl,
        userId: `user-${backend.kind}`,
        generationId: 'gen-1',
        sha256: file.sha256,
        storageKey: file.storageKey,
      });
      const bytes = await readAll((await store.get(file.storageKey))?.body as ReadableStream<Uint8Array>);
      expect(sha256Hex(bytes)).toBe(file.sha256);
      await validateFileIntegrity(bytes, file.contentType);
    }
    // The stored MP3 is byte-identical to the origin's file.
    expect(first?.sha256).toBe(sha256Hex(await Bun.file(join(FIXTURES, 'fixture.mp3')).bytes()));

    // Nothing from a failed URL reached the store: exactly one object per distinct content.
    const objects: string[] = [];
    for (const prefix of ['audio/', 'video/', 'image/', 'text/']) {
      objects.push(...(await store.list(prefix)).items.map((i) => i.key));
    }
    expect(objects.sort()).toEqual([...new Set(result.processedFiles.map((f) => f.storageKey))].sort());
    expect(await repository.count({ userId: `user-${backend.kind}` })).toBe(result.processedFiles.length);
  });

  test('a small file is stored from memory; a spooled one is handed over (renamed on disk, sent from the page cache to S3)', async () => {
    // The real store, with its calls counted.
    const calls = { put: 0, putFile: 0 };
    const counted: ObjectStore = {
      ...store,
      put: (...args) => {
        calls.put += 1;
        return store.put(...args);
      },
      ...(store.putFile
        ? {
            putFile: (...args: Parameters<NonNullable<ObjectStore['putFile']>>) => {
              calls.putFile += 1;
              return (store.putFile as NonNullable<ObjectStore['putFile']>)(...args);
            },
          }
        : {}),
    };
    const result = await processFileBatch({
      ...context({ store: counted }),
      urls: [at('copy/fixture.mp3'), at('copy/fixture.txt'), at('large.wav')],
      userId: 'spool-handoff',
    });
    expect(result.failedFiles).toEqual([]);
    expect(calls).toEqual({ put: 2, putFile: 1 });
    // The store took the spool over (moved it, or sent it and removed it): none is left.
    expect(readdirSync(join(home, 'tmp')).filter((name) => name.startsWith('spool-'))).toEqual([]);
    for (const file of result.processedFiles) {
      const stored = await store.get(file.storageKey);
      expect(sha256Hex(await readAll(stored?.body ?? new ReadableStream()))).toBe(file.sha256);
    }
  });

  test('files over the size cap are refused and nothing is stored', async () => {
    const wavs = async () => (await store.list('audio/')).items.filter((i) => i.key.endsWith('.wav')).length;
    const before = await wavs();
    const result = await processFileBatch({ ...context({ maxSize: 1000 }), urls: [at('fixture.wav')] });
    expect(result.failedFiles[0]?.code).toBe('FILE_SIZE_EXCEEDED');
    expect(await wavs()).toBe(before);
  });

  test('images are recompressed when that makes them smaller, and kept as they are otherwise', async () => {
    const result = await processFileBatch({ ...context(), userId: 'img', urls: [at('fixture.png')], quality: 60 });
    const [file] = result.processedFiles;
    expect(file?.size).toBeLessThanOrEqual(file?.originalSize as number);
    const stored = await readAll((await store.get(file?.storageKey as string))?.body as ReadableStream<Uint8Array>);
    expect(stored.byteLength).toBe(file?.size as number);
  });

  test("uploadGenerationResult stores a generation's outputs under its user and generation", async () => {
    const result = await uploadGenerationResult(context(), {
      userId: 'gen-user',
      generationId: 'gen-42',
      fileUrls: [at('fixture.ogg'), at('fixture.webp')],
    });
    expect(result).toMatchObject({ success: true, totalFiles: 2, failedFiles: [] });
    const records = await new RecordRepository(backend.database().db).list(ALL_USERS, { generationId: 'gen-42' });
    expect(records.items.map((r) => [r.userId, r.mediaType]).sort()).toEqual([
      ['gen-user', 'audio'],
      ['gen-user', 'image'],
    ]);
  });

  test('the origin never sees more downloads at once than maxConcurrent, while files already through are stored', async () => {
    slow.most = 0;
    const urls = Array.from({ length: 24 }, (_, i) => at(`slow/${backend.kind}-${i}-${crypto.randomUUID()}.wav`));
    const result = await processFileBatch({ ...context(), urls, maxConcurrent: 2 });
    expect(result).toMatchObject({ success: true, failedFiles: [] });
    expect(result.processedFiles).toHaveLength(24);
    expect(slow.most).toBe(2);
    for (const file of result.processedFiles) {
      const stored = await store.get(file.storageKey);
      expect(sha256Hex(await readAll(stored?.body ?? new ReadableStream()))).toBe(file.sha256);
    }
  });

  test('a concurrency below one (or not a number) still processes the batch, one URL at a time', async () => {
    for (const maxConcurrent of [0, -3, Number.NaN]) {
      slow.most = 0;
      const urls = [0, 1, 2].map((i) => at(`slow/${backend.kind}-low-${i}-${crypto.randomUUID()}.wav`));
      const result = await processFileBatch({ ...context(), urls, maxConcurrent });
      expect(result.processedFiles).toHaveLength(3);
      expect(slow.most).toBe(1);
    }
  });

  test("an item run again finds its record: before downloading, or after it on a queue's first attempt", async () => {
    const path = `/slow/${backend.kind}-again-${crypto.randomUUID()}.wav`;
    const recordUid = crypto.randomUUID();
    const userId = `again-${backend.kind}`;
    const first = await processUrl(at(path.slice(1)), { ...context(), userId, recordUid, firstAttempt: true });
    expect(hits.get(path)).toBe(1);
    // A re-run (attempt 2): the record is found before any download.
    expect(await processUrl(at(path.slice(1)), { ...context(), userId, recordUid })).toEqual(first);
    expect(hits.get(path)).toBe(1);
    // Told it is a first attempt (a retried task's item starts again at 1): downloaded again, the same record returned.
    expect(await processUrl(at(path.slice(1)), { ...context(), userId, recordUid, firstAttempt: true })).toEqual(first);
    expect(hits.get(path)).toBe(2);
    expect(await new RecordRepository(backend.database().db).count({ userId })).toBe(1);
  });

  test('MAX_BATCH_SIZE is enforced with a clear error', async () => {
    const urls = Array.from({ length: 51 }, (_, i) => at(`fixture.mp3?${i}`));
    await expect(processFileBatch({ ...context(), urls })).rejects.toMatchObject({ code: 'BATCH_TOO_LARGE' });
  });
});
