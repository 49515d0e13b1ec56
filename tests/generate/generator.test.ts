import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ALL_USERS,
  type Database,
  openDatabase,
  RecordFileGenerator,
  RecordRepository,
  readAll,
  records,
  sha256Hex,
  validateFileIntegrity,
} from '@mediaforge/core';
import { describeBackends } from '@mediaforge/core/testing';
import { createFileStore, createS3Store, type ObjectStore, StorageError } from '@mediaforge/storage';
import { S3RVER_CREDENTIALS, startS3Server, type TestS3Server } from '@mediaforge/storage/testing';
import { eq, sql } from 'drizzle-orm';

const settings = {
  maxFileSizeBytes: 50 * 1024 * 1024,
  taskTimeoutMinutes: 30,
  home: mkdtempSync(join(tmpdir(), 'mediaforge-gen-home-')),
};

/**
 * A real store wrapped to count uploads and, when asked, fail some of them the way a storage outage would
 * (fault injection around a real driver, not a mock: every other call reaches the real store).
 */
function instrumented(store: ObjectStore) {
  const puts: string[] = [];
  let failFor: ((key: string) => boolean) | undefined;
  const wrapped: ObjectStore = {
    ...store,
    driver: store.driver,
    objectUrl: (key) => store.objectUrl(key),
    async put(key, body, options) {
      if (failFor?.(key)) throw new StorageError(store.driver, 'STORAGE_TRANSIENT', `injected outage writing ${key}`);
      puts.push(key);
      return store.put(key, body, options);
    },
  };
  const putFile = store.putFile?.bind(store);
  if (putFile) {
    wrapped.putFile = async (key, path, options) => {
      if (failFor?.(key)) throw new StorageError(store.driver, 'STORAGE_TRANSIENT', `injected outage writing ${key}`);
      puts.push(key);
      return putFile(key, path, options);
    };
  }
  return {
    store: wrapped,
    puts,
    failWhen(predicate: ((key: string) => boolean) | undefined) {
      failFor = predicate;
    },
  };
}

// PGlite with the local-disk store, PostgreSQL with S3 (s3rver on loopback): the two deployments the issue names.
describeBackends('RecordFileGenerator', (backend) => {
  let s3: TestS3Server | undefined;
  let base: ObjectStore;
  let repository: RecordRepository;
  beforeAll(async () => {
    if (backend.kind === 'postgres') {
      s3 = await startS3Server();
      base = createS3Store({ bucket: s3.bucket, endpoint: s3.endpoint, ...S3RVER_CREDENTIALS });
    } else {
      base = createFileStore({ root: mkdtempSync(join(tmpdir(), 'mediaforge-gen-')) });
    }
    repository = new RecordRepository(backend.database().db);
  });
  afterAll(async () => s3?.close());

  const generatorWith = (store: ObjectStore, db = backend.database().db) =>
    new RecordFileGenerator({ db, store, settings, scope: ALL_USERS });

  test('generates, verifies and stores each media type under {media_type}/{uid}{ext}', async () => {
    const made = await repository.createMany(
      (['text', 'audio', 'video', 'image'] as const).map((mediaType) => ({ mediaType })),
      ALL_USERS,
    );
    const { store, puts } = instrumented(base);
    const results = await generatorWith(store).bulkProcessRecords(
      made.map((r) => r.uid),
      { fileSizeKb: 15 },
    );
    expect(results.map((r) => r.success)).toEqual([true, true, true, true]);
    expect(puts).toHaveLength(4);
    for (const [i, result] of results.entries()) {
      const record = await repository.get(made[i]?.uid as string, ALL_USERS);
      const ext = { text: '.txt', audio: '.mp3', video: '.mp4', image: '.jpg' }[record.mediaType];
      expect(result.uploadResult?.key).toBe(`${record.mediaType}/${record.uid}${ext}`);
      expect(record).toMatchObject({
        status: 'uploaded',
        storageKey: result.uploadResult?.key,
        fileName: `${record.uid}${ext}`,
        sha256: result.uploadResult?.sha256,
        fileUrl: result.uploadResult?.objectUrl,
        source: 'generated',
        error: null,
      });
      const head = await base.head(record.storageKey as string);
      expect(head?.metadata).toMatchObject({
        record_uid: record.uid,
        media_type: record.mediaType,
        generated: 'true',
        file_size_kb: '15',
        sha256: record.sha256,
      });
      expect(Number.isNaN(Date.parse(head?.metadata.generated_at ?? ''))).toBe(false);
      const bytes = await readAll((await base.get(record.storageKey as string))?.body as ReadableStream<Uint8Array>);
      expect(sha256Hex(bytes)).toBe(record.sha256 as string);
      expect(bytes.byteLength).toBe(record.fileSize as number);
      await validateFileIntegrity(bytes, record.contentType as string);
    }
  });

  test('a record that already has its file is skipped, unless forced', async () => {
    const [record] = await repository.createMany([{ mediaType: 'text' }], ALL_USERS);
    const uid = record?.uid as string;
    const { store, puts } = instrumented(base);
    const generator = generatorWith(store);
    expect((await generator.processRecord(uid)).outcome).toBe('uploaded');
    expect((await generator.processRecord(uid)).outcome).toBe('skipped');
    expect(puts).toHaveLength(1);
    expect((await generator.processRecord(uid, { force: true, fileSizeKb: 20 })).outcome).toBe('uploaded');
    expect((await repository.get(uid, ALL_USERS)).fileSize).toBe(20 * 1024);
  });

  test('invalid and unknown uids and oversized requests are reported per record, before any work', async () => {
    const [record] = await repository.createMany([{ mediaType: 'audio' }], ALL_USERS);
    const { store, puts } = instrumented(base);
    const generator = new RecordFileGenerator({
      db: backend.database().db,
      store,
      settings: { ...settings, maxFileSizeBytes: 100 * 1024 },
      scope: ALL_USERS,
    });
    const results = [
      ...(await generator.bulkProcessRecords(['not-a-uid', '01a1ff94-0000-7000-8000-000000000000'], { fileSizeKb: 2 })),
      // The size is checked first, before the record is even looked up.
      ...(await generator.bulkProcessRecords([record?.uid as string], { fileSizeKb: 200 })),
    ];
    expect(results.map((r) => r.error?.code)).toEqual(['INVALID_UID', 'RECORD_NOT_FOUND', 'FILE_SIZE_EXCEEDED']);
    expect(results.every((r) => !r.success && r.outcome === 'failed')).toBe(true);
    expect(puts).toEqual([]);
    expect((await repository.get(record?.uid as string, ALL_USERS)).status).toBe('pending');
  });

  test('two generators racing on the same 200 records upload each exactly once', async () => {
    const made = await repository.createMany(
      Array.from({ length: 200 }, (_, i) => ({ mediaType: i % 2 ? ('text' as const) : ('audio' as const) })),
      ALL_USERS,
    );
    const uids = made.map((r) => r.uid);
    const { store, puts } = instrumented(base);
    // On PostgreSQL each generator has its own connection pool, as two machines would.
    const second: Database | undefined =
      backend.kind === 'postgres' ? await openDatabase({ url: backend.url() as string }) : undefined;
    try {
      const [a, b] = await Promise.all([
        generatorWith(store).bulkProcessRecords(uids, { fileSizeKb: 2, concurrency: 8 }),
        generatorWith(store, second?.db ?? backend.database().db).bulkProcessRecords([...uids].reverse(), {
          fileSizeKb: 2,
          concurrency: 8,
        }),
      ]);
      expect(new Set(puts).size).toBe(puts.length);
      // One object per distinct content (tiny synthesized files may coincide, and dedupe then shares one object).
      const stored = await Promise.all(uids.map((uid) => repository.get(uid, ALL_USERS)));
      expect(puts).toHaveLength(new Set(stored.map((r) => r.sha256)).size);
      const uploaded = [...a, ...b].filter((r) => r.outcome === 'uploaded');
      expect(uploaded).toHaveLength(200);
      // The loser of each race either saw the record busy or already done; nothing else.
      for (const r of [...a, ...b].filter((r) => r.outcome !== 'uploaded')) {
        expect(r.outcome === 'skipped' || r.error?.code === 'RECORD_BUSY').toBe(true);
      }
      expect(await repository.count(ALL_USERS, { status: 'uploaded', withoutFile: false })).toBeGreaterThanOrEqual(200);
      for (const uid of uids) expect((await repository.get(uid, ALL_USERS)).status).toBe('uploaded');
    } finally {
      await second?.close();
    }
  });

  test('a crash between upload and record update is completed from the object, without a second upload', async () => {
    const [record] = await repository.createMany([{ mediaType: 'image' }], ALL_USERS);
    const uid = record?.uid as string;
    const { store, puts } = instrumented(base);
    // The upload happened, then the process died before the record update (simulated: objects only, no update).
    const first = await generatorWith(store).processRecord(uid, { updateRecord: false });
    expect(first.success).toBe(true);
    expect((await repository.get(uid, ALL_USERS)).status).toBe('pending');
    expect(puts).toHaveLength(1);

    const rerun = await generatorWith(store).processRecord(uid);
    expect(rerun.outcome).toBe('recovered');
    expect(puts).toHaveLength(1);
    const completed = await repository.get(uid, ALL_USERS);
    expect(completed).toMatchObject({ status: 'uploaded', sha256: first.uploadResult?.sha256 });
    expect(completed.fileUrl).toBe(first.uploadResult?.objectUrl as string);
  });

  test('a damaged leftover object is not trusted: it is uploaded again', async () => {
    const [record] = await repository.createMany([{ mediaType: 'text' }], ALL_USERS);
    const uid = record?.uid as string;
    const first = await generatorWith(base).processRecord(uid, { updateRecord: false });
    const key = first.uploadResult?.key as string;
    const head = await base.head(key);
    await base.put(key, new TextEncoder().encode('truncated'), {
      contentType: 'text/plain',
      metadata: head?.metadata ?? {},
    });
    const rerun = await generatorWith(base).processRecord(uid);
    expect(rerun.outcome).toBe('uploaded');
    const after = await repository.get(uid, ALL_USERS);
    // The damaged object is retired, and the record got a fresh key whose bytes hash to its sha256.
    expect(after.storageKey).not.toBe(key);
    expect(await base.head(key)).toBeNull();
    const bytes = await readAll((await base.get(after.storageKey as string))?.body as ReadableStream<Uint8Array>);
    expect(sha256Hex(bytes)).toBe(after.sha256 as string);
  });

  test('a storage outage mid-batch fails only the affected records, which the next run retries', async () => {
    const made = await repository.createMany(
      Array.from({ length: 9 }, () => ({ mediaType: 'text' as const })),
      ALL_USERS,
    );
    const uids = made.map((r) => r.uid);
    const doomed = new Set(uids.filter((_, i) => i % 3 === 1));
    const { store, failWhen } = instrumented(base);
    failWhen((key) => [...doomed].some((uid) => key.includes(uid)));
    const results = await generatorWith(store).bulkProcessRecords(uids, { fileSizeKb: 2 });
    expect(results.filter((r) => r.success)).toHaveLength(6);
    for (const uid of doomed) {
      const record = await repository.get(uid, ALL_USERS);
      expect(record.status).toBe('failed');
      expect(record.error).toContain('injected outage');
    }
    const pending = (await generatorWith(store).getRecordsWithoutFiles(1000)).map((r) => r.uid);
    for (const uid of doomed) expect(pending).toContain(uid);

    failWhen(undefined);
    const retry = await generatorWith(store).bulkProcessRecords([...doomed], { fileSizeKb: 2 });
    expect(retry.every((r) => r.success)).toBe(true);
    for (const uid of doomed) expect((await repository.get(uid, ALL_USERS)).status).toBe('uploaded');
  });

  test('an abandoned claim is taken over after the task timeout; a fresh one is left alone', async () => {
    const [fresh, stale] = await repository.createMany([{ mediaType: 'text' }, { mediaType: 'text' }], ALL_USERS);
    const { db } = backend.database();
    await db
      .update(records)
      .set({ status: 'processing' })
      .where(eq(records.uid, fresh?.uid as string));
    await db
      .update(records)
      .set({ status: 'processing', updatedAt: sql`now() - interval '2 hours'` })
      .where(eq(records.uid, stale?.uid as string));
    const generator = generatorWith(base);
    const waiting = (await generator.getRecordsWithoutFiles(10_000)).map((r) => r.uid);
    expect(waiting).toContain(stale?.uid as string);
    expect(waiting).not.toContain(fresh?.uid as string);
    expect((await generator.processRecord(fresh?.uid as string)).error?.code).toBe('RECORD_BUSY');
    expect((await generator.processRecord(stale?.uid as string)).outcome).toBe('uploaded');
  });

  test('autoGenerate finds the records without files and reports totals', async () => {
    await repository.createMany([{ mediaType: 'text' }, { mediaType: 'audio' }], ALL_USERS);
    const outcome = await generatorWith(base).autoGenerate({ limit: 10_000, fileSizeKb: 2 });
    expect(outcome.processed).toBeGreaterThanOrEqual(2);
    expect(outcome.successful).toBe(outcome.processed - outcome.failed);
    expect(await generatorWith(base).getRecordsWithoutFiles(10_000)).toEqual([]);
  });
});
