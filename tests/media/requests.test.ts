/**
 * Per-request filters, request headers and original names through the real pipeline: loopback HTTP origins, a real
 * database (PGlite and PostgreSQL), a real object store, ffprobe as the metadata oracle, and the real worker for
 * queued ingests whose headers wait sealed in the database.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ALL_USERS,
  type FileProcessingError,
  loadSettings,
  objects,
  parseAllowedTypes,
  processUrl,
  RecordFileGenerator,
  RecordRepository,
  records,
  reprobeMedia,
  storeUpload,
  TaskManager,
  tasks,
  userScope,
} from '@mediaforge/core';
import { describeBackends, ffprobe } from '@mediaforge/core/testing';
import { createFileStore, type ObjectStore } from '@mediaforge/storage';
import { builtinHandlers } from '@mediaforge/worker';
import { eq, sql } from 'drizzle-orm';
import { workerStarter } from '../support/workers.ts';

const FIXTURES = join(import.meta.dir, '../../packages/core/test/fixtures');
const SECRET = 'Bearer s3cr3t-token-never-stored-in-plain';

/** Every request each origin saw: path and its authorization/cookie headers. */
const seen: { origin: 'a' | 'b'; path: string; authorization: string | null; cookie: string | null }[] = [];

const fixture = (name: string) => new Response(Bun.file(join(FIXTURES, name)).stream());

/** A loopback origin that notes every request in `seen` before `route` answers it. */
function origin(name: 'a' | 'b', route: (path: string, request: Request) => Response) {
  return Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch(request) {
      const path = new URL(request.url).pathname;
      const { headers } = request;
      seen.push({ origin: name, path, authorization: headers.get('authorization'), cookie: headers.get('cookie') });
      return route(path, request);
    },
  });
}

// Origin A needs the caller's credentials; B is another origin (another port) that must never see them.
const b = origin('b', (path) =>
  path === '/back-to-a' ? Response.redirect(atA('private/fixture.png'), 302) : fixture('fixture.jpg'),
);
const a = origin('a', (path, request) => {
  if (path.startsWith('/private/') && request.headers.get('authorization') !== SECRET) {
    return new Response('unauthorized', { status: 401 });
  }
  if (path === '/private/same-origin-hop') return Response.redirect(atA('private/fixture.png'), 302);
  if (path === '/private/to-b') return Response.redirect(`http://127.0.0.1:${b.port}/elsewhere.jpg`, 302);
  if (path === '/private/via-b') return Response.redirect(`http://127.0.0.1:${b.port}/back-to-a`, 302);
  if (path === '/download') {
    return new Response(Bun.file(join(FIXTURES, 'fixture-av.mp4')).stream(), {
      headers: { 'content-disposition': 'attachment; filename="x.mp4"; filename*=UTF-8\'\'%E7%8C%AB%20clip.mp4' },
    });
  }
  return fixture(path.replace(/^\/(private\/)?/, ''));
});
function atA(path: string): string {
  return `http://127.0.0.1:${a.port}/${path}`;
}
afterAll(() => {
  a.stop(true);
  b.stop(true);
});

async function expectCode(promise: Promise<unknown>, code: string) {
  const error = (await promise.then(
    () => undefined,
    (e: unknown) => e,
  )) as FileProcessingError;
  expect(error?.code as string).toBe(code);
  return error;
}

describeBackends('media requests', (backend) => {
  let store: ObjectStore;
  let home = '';
  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), 'mediaforge-media-requests-'));
    store = createFileStore({ root: join(home, 'objects') });
  });
  const db = () => backend.database().db;
  const ctx = (extra = {}) => ({
    db: db(),
    store,
    settings: { maxFileSizeBytes: 2 * 1024 * 1024, maxBatchSize: 50, home },
    policy: { allowHosts: ['127.0.0.1'] },
    download: { backoffMs: 5, retries: 0 },
    ...extra,
  });
  /** Rows in objects and records, and keys in the store: what "nothing was written" is measured by. */
  const footprint = async () => {
    const [o] = await db().select({ n: sql<number>`count(*)::int` }).from(objects);
    const [r] = await db().select({ n: sql<number>`count(*)::int` }).from(records);
    const keys = (await Promise.all(['image/', 'audio/', 'video/', 'text/'].map((p) => store.list(p)))).flatMap(
      (page) => page.items,
    );
    return { objects: o?.n, records: r?.n, keys: keys.length };
  };

  test("an ingested video's typed columns and media info agree with ffprobe; its name comes from Content-Disposition", async () => {
    const file = await processUrl(atA('download'), ctx({ userId: 'u1', generationId: 'gen-1' }));
    const row = await new RecordRepository(db()).get(file.recordUid, ALL_USERS);
    const probe = ffprobe(join(FIXTURES, 'fixture-av.mp4'));
    const video = probe.streams.find((s) => s.codec_type === 'video');
    const audio = probe.streams.find((s) => s.codec_type === 'audio');
    expect(row.width).toBe(video?.width as number);
    expect(row.height).toBe(video?.height as number);
    expect(row.durationSeconds as number).toBeCloseTo(Number(probe.format.duration), 2);
    expect(row.mediaInfo?.sampleRate).toBe(Number(audio?.sample_rate));
    expect(row.mediaInfo?.channels).toBe(audio?.channels as number);
    expect(row.mediaInfo?.frameRate).toBe(10);
    expect(row.mediaInfo?.streams?.map((s) => s.codec)).toEqual(['h264', 'aac']);
    expect(row.originalName).toBe('猫 clip.mp4');
    expect(file.originalName).toBe('猫 clip.mp4');
    expect(file.info.frameRate).toBe(10);
    expect(row.metadata.media).toBeUndefined();
  });

  test('generated files get the same typed metadata, agreeing with ffprobe on the stored bytes', async () => {
    const repository = new RecordRepository(db());
    const [video, audio] = await repository.createMany(
      [
        { mediaType: 'video', generationId: 'gen-synth' },
        { mediaType: 'audio', generationId: 'gen-synth' },
      ],
      ALL_USERS,
    );
    const generator = new RecordFileGenerator({
      db: db(),
      store,
      settings: { maxFileSizeBytes: 2 * 1024 * 1024, home, taskTimeoutMinutes: 5 } as never,
      scope: ALL_USERS,
    });
    for (const record of [video, audio]) {
      const result = await generator.processRecord(record?.uid as string, { fileSizeKb: 40 });
      expect(result.success).toBe(true);
      const row = await repository.get(record?.uid as string, ALL_USERS);
      const path = join(home, 'stored-copy');
      await Bun.write(path, await new Response((await store.get(row.storageKey as string))?.body).arrayBuffer());
      const probe = ffprobe(path);
      expect(row.durationSeconds as number).toBeCloseTo(Number(probe.format.duration), 1);
      const stream = probe.streams[0];
      if (row.mediaType === 'video')
        expect([row.width, row.height] as unknown[]).toEqual([stream?.width, stream?.height]);
      else expect(row.mediaInfo?.sampleRate).toBe(Number(stream?.sample_rate));
      expect(row.originalName).toBeNull();
    }
  });

  test('reprobe fills the media columns of records stored before them, and reports damaged objects', async () => {
    const scope = userScope('u9');
    const first = await processUrl(atA('fixture-av.mp4'), ctx({ userId: 'u9' }));
    const second = await processUrl(atA('fixture.webm'), ctx({ userId: 'u9' }));
    // As migration 0006 leaves an old row: what metadata.media held, no streams or frame rate, no typed width.
    const legacy = { mediaInfo: { durationSeconds: 1, codec: 'avc1+mp4a' }, width: null, height: null };
    for (const uid of [first.recordUid, second.recordUid])
      await db().update(records).set(legacy).where(eq(records.uid, uid));
    const damaged = await new RecordRepository(db()).get(second.recordUid, ALL_USERS);
    await Bun.write(join(home, 'objects', damaged.storageKey as string), Bun.file(join(FIXTURES, 'fixture.mp4')));

    const result = await reprobeMedia({ db: db(), store, settings: ctx().settings }, scope);
    expect(result).toMatchObject({ checked: 2, updated: 1 });
    expect(result.failed.map((f) => [f.uid, f.code])).toEqual([[second.recordUid, 'INTEGRITY_ERROR']]);
    const row = await new RecordRepository(db()).get(first.recordUid, ALL_USERS);
    expect(row).toMatchObject({ width: 96, height: 64, mediaInfo: { frameRate: 10, sampleRate: 44100 } });
    expect(row.mediaInfo?.streams).toHaveLength(2);
    expect((await new RecordRepository(db()).get(second.recordUid, ALL_USERS)).width).toBeNull();
    expect(await reprobeMedia({ db: db(), store, settings: ctx().settings }, userScope('nobody'))).toEqual({
      checked: 0,
      updated: 0,
      failed: [],
    });
  });

  test('an ingested image is named after the URL path, and record lists filter on its dimensions', async () => {
    const file = await processUrl(atA('fixture.png'), ctx({ userId: 'u1', generationId: 'gen-1' }));
    const repository = new RecordRepository(db());
    const row = await repository.get(file.recordUid, ALL_USERS);
    expect(row.originalName).toBe('fixture.png');
    expect([row.width, row.height]).toEqual([64, 48]);
    const wide = await repository.list(userScope('u1'), { minWidth: 90 });
    expect(wide.items.map((r) => r.mediaType)).toEqual(['video']);
    const short = await repository.list(userScope('u1'), { maxDuration: 0.5 });
    expect(short.items).toEqual([]);
    const both = await repository.list(userScope('u1'), { minHeight: 48, maxHeight: 64 });
    expect(both.items).toHaveLength(2);
    await expectCode(repository.list(ALL_USERS, { minWidth: 100, maxWidth: 10 }), 'VALIDATION_ERROR');
    await expectCode(repository.list(ALL_USERS, { minDuration: -1 }), 'VALIDATION_ERROR');
    await expectCode(repository.list(ALL_USERS, { maxHeight: Number.POSITIVE_INFINITY }), 'VALIDATION_ERROR');
  });

  test('allowedTypes and a lowered size cap refuse with typed errors and write nothing', async () => {
    const before = await footprint();
    await expectCode(
      processUrl(atA('fixture.mp3'), ctx({ allowedTypes: parseAllowedTypes(['image']) })),
      'FILE_TYPE_NOT_ALLOWED',
    );
    await expectCode(
      processUrl(atA('fixture.jpg'), ctx({ allowedTypes: parseAllowedTypes(['image/png', 'audio/*']) })),
      'FILE_TYPE_NOT_ALLOWED',
    );
    await expectCode(processUrl(atA('fixture.wav'), ctx({ maxSize: 4096 })), 'FILE_SIZE_EXCEEDED');
    expect(await footprint()).toEqual(before);
    expect(() => parseAllowedTypes(['application/pdf'])).toThrow(/neither a media type/);
    expect(() => parseAllowedTypes([])).toThrow(/1 to 32/);
    expect(parseAllowedTypes(['audio/x-wav', 'image/jpg']).has('image/jpeg')).toBe(true);
  });

  test('an upload outside allowedTypes leaves the record exactly as it was (updated_at too) and stores nothing', async () => {
    const repository = new RecordRepository(db());
    const created = await repository.create({ mediaType: 'audio', userId: 'u2' }, ALL_USERS);
    const before = await footprint();
    const upload = (name: string, extra = {}) =>
      storeUpload(created.uid, Bun.file(join(FIXTURES, name)).stream(), {
        db: db(),
        store,
        settings: { maxFileSizeBytes: 2 * 1024 * 1024, home, taskTimeoutMinutes: 5 },
        scope: userScope('u2'),
        ...extra,
      });
    await expectCode(
      upload('fixture.mp3', { allowedTypes: parseAllowedTypes(['audio/wav']) }),
      'FILE_TYPE_NOT_ALLOWED',
    );
    await expectCode(upload('fixture.wav', { maxSize: 1000 }), 'FILE_SIZE_EXCEEDED');
    expect(await repository.get(created.uid, ALL_USERS)).toEqual(created);
    expect(await footprint()).toEqual(before);
    const stored = await upload('fixture.wav', {
      allowedTypes: parseAllowedTypes(['audio/wav']),
      fileName: '../../secret/\u202Emy take.wav',
    });
    expect(stored.record.originalName).toBe('_my take.wav');
    expect(stored.record).toMatchObject({
      durationSeconds: 1,
      mediaInfo: { sampleRate: 8000, channels: 1, bitsPerSample: 16 },
    });
  });

  test('request headers reach the named origin and its same-origin redirects, never another origin', async () => {
    seen.length = 0;
    const headers = { authorization: SECRET, cookie: 'session=abc' };
    await processUrl(atA('private/same-origin-hop'), ctx({ download: { retries: 0, headers } }));
    expect(seen.filter((s) => s.origin === 'a').every((s) => s.authorization === SECRET)).toBe(true);

    seen.length = 0;
    const viaB = await processUrl(atA('private/to-b'), ctx({ download: { retries: 0, headers } }));
    expect(viaB.mediaType).toBe('image');
    expect(seen.map((s) => s.origin)).toEqual(['a', 'b']);
    expect(seen.find((s) => s.origin === 'b')).toMatchObject({ authorization: null, cookie: null });

    // A → B → A: once the chain left A, B chose where it goes, so A is not sent the credentials again (a 401).
    seen.length = 0;
    await expectCode(
      processUrl(atA('private/via-b'), ctx({ download: { retries: 0, headers } })),
      'DOWNLOAD_HTTP_STATUS',
    );
    expect(seen.map((s) => [s.origin, s.authorization])).toEqual([
      ['a', SECRET],
      ['b', null],
      ['a', null],
    ]);
  });

  test('hop-by-hop, Host-like, oversized and injected headers are refused before any request', async () => {
    seen.length = 0;
    for (const headers of [
      { host: 'internal.example' },
      { Connection: 'close' },
      { 'x-forwarded-for': '10.0.0.1' },
      { 'transfer-encoding': 'chunked' },
      { range: 'bytes=0-1' },
      { 'x-ok': 'a\r\nhost: evil' },
      { 'bad name': 'x' },
      { 'x-big': 'a'.repeat(9000) },
      Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`x-h${i}`, 'v'])),
    ]) {
      const error = await expectCode(processUrl(atA('fixture.png'), ctx({ download: { headers } })), 'INVALID_HEADERS');
      expect(JSON.stringify(error.details)).not.toContain('evil');
    }
    expect(seen).toEqual([]);
  });

  test('a queued ingest keeps its headers sealed in the database, and the worker sends them', async () => {
    const settings = loadSettings({
      env: { MEDIAFORGE_HOME: home, MEDIAFORGE_ALLOW_HOSTS: '127.0.0.1', INGEST_HEADERS_KEY: 'k'.repeat(40) },
    });
    const without = new TaskManager({
      database: backend.database(),
      settings: { ...settings, ingestHeadersKey: undefined },
    });
    const input = {
      urls: [atA('private/fixture.gif')],
      scope: userScope('u3'),
      generationId: 'gen-3',
      options: { allowPrivate: true, headers: { Authorization: SECRET }, allowedTypes: ['image'] },
    };
    await expectCode(without.queueFileProcessing(input), 'INVALID_HEADERS');
    await expectCode(
      without.queueFileProcessing({ ...input, options: { allowedTypes: ['nope/nope'] } }),
      'VALIDATION_ERROR',
    );
    const manager = new TaskManager({ database: backend.database(), settings });
    const taskId = await manager.queueFileProcessing(input);
    const [row] = await db().select().from(tasks).where(eq(tasks.id, taskId));
    const stored = JSON.stringify(row);
    expect(stored).not.toContain('s3cr3t');
    expect(stored).not.toContain('authorization');

    seen.length = 0;
    const workers = workerStarter(backend);
    await workers.start(builtinHandlers({ db: db(), store, settings, leaseMs: 2000 }) as never);
    let status = await manager.getTaskStatus(taskId, ALL_USERS);
    for (let i = 0; i < 200 && !status.ready; i++) {
      await Bun.sleep(50);
      status = await manager.getTaskStatus(taskId, ALL_USERS);
    }
    await workers.stopAll();
    expect(status.progress).toMatchObject({ succeeded: 1, failed: 0 });
    expect(seen.map((s) => s.authorization)).toEqual([SECRET]);
  });
});
