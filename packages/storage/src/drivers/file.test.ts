import { expect, test } from 'bun:test';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { testObjectStore } from '../testing/contract.ts';
import { createFileStore } from './file.ts';

let root = '';

testObjectStore('file', {
  async setup() {
    root = mkdtempSync(join(tmpdir(), 'mediaforge-file-store-'));
    return { store: createFileStore({ root }), cleanup: () => rm(root, { recursive: true, force: true }) };
  },
  additionalTests(store) {
    test('objects are plain files at their key; temp files never linger', async () => {
      await store().put('audio/x.mp3', new Uint8Array([1, 2, 3]), { contentType: 'audio/mpeg' });
      expect(await Bun.file(join(root, 'audio/x.mp3')).bytes()).toEqual(new Uint8Array([1, 2, 3]));
      expect(readdirSync(join(root, 'audio')).filter((name) => name.endsWith('.tmp'))).toEqual([]);
      expect(await store().url('audio/x.mp3')).toBe(`file://${join(root, 'audio/x.mp3')}`);
    });

    test('putFile takes a local file over (moved, not copied) with the same sidecar and ETag (its SHA-256) as put', async () => {
      const spool = join(mkdtempSync(join(tmpdir(), 'mediaforge-spool-')), 'spool');
      const bytes = new TextEncoder().encode('spooled bytes');
      await Bun.write(spool, bytes);
      const sha256 = new Bun.CryptoHasher('sha256').update(bytes).digest('hex');
      const put = store().putFile;
      if (!put) throw new Error('the file store implements putFile');
      const result = await put('text/moved.txt', spool, {
        contentType: 'text/plain',
        metadata: { record_uid: 'r1' },
        size: bytes.byteLength,
        sha256,
      });
      expect(result).toMatchObject({ key: 'text/moved.txt', size: bytes.byteLength, etag: `"${sha256}"` });
      expect(await Bun.file(spool).exists()).toBe(false);
      expect(await Bun.file(join(root, 'text/moved.txt')).bytes()).toEqual(bytes);
      const streamed = await store().put('text/streamed.txt', bytes, { contentType: 'text/plain' });
      expect(streamed.etag).toBe(result.etag);
      expect(await store().head('text/moved.txt')).toMatchObject({
        size: bytes.byteLength,
        contentType: 'text/plain',
        metadata: { record_uid: 'r1' },
        etag: `"${sha256}"`,
      });
      expect(readdirSync(join(root, 'text')).filter((name) => name.endsWith('.tmp'))).toEqual([]);
      // A file that is not there is a typed error, and nothing is left behind.
      await expect(
        put('text/none.txt', `${spool}-missing`, { contentType: 'text/plain', size: 1, sha256 }),
      ).rejects.toMatchObject({
        code: 'STORAGE_ERROR',
      });
      expect(await store().head('text/none.txt')).toBeNull();
    });

    // /dev/shm is a tmpfs here, another filesystem than the store's: rename fails with EXDEV and the file is copied.
    const otherFilesystem = existsSync('/dev/shm') && statSync('/dev/shm').dev !== statSync(tmpdir()).dev;
    test.skipIf(!otherFilesystem)(
      'putFile from another filesystem copies the file into place and removes the one handed over',
      async () => {
        const spool = join(mkdtempSync('/dev/shm/mediaforge-spool-'), 'spool');
        const bytes = new TextEncoder().encode('bytes from another filesystem');
        await Bun.write(spool, bytes);
        const sha256 = new Bun.CryptoHasher('sha256').update(bytes).digest('hex');
        const put = store().putFile;
        if (!put) throw new Error('the file store implements putFile');
        await put('text/copied.txt', spool, { contentType: 'text/plain', size: bytes.byteLength, sha256 });
        expect(await Bun.file(join(root, 'text/copied.txt')).bytes()).toEqual(bytes);
        expect(existsSync(spool)).toBe(false);
        expect(readdirSync(join(root, 'text')).filter((name) => name.endsWith('.tmp'))).toEqual([]);
      },
    );

    test('overwriting replaces the object atomically with its new metadata', async () => {
      await store().put('text/o.txt', new TextEncoder().encode('first'), {
        contentType: 'text/plain',
        metadata: { v: '1' },
      });
      await store().put('text/o.txt', new TextEncoder().encode('second!'), {
        contentType: 'text/plain',
        metadata: { v: '2' },
      });
      expect(await store().head('text/o.txt')).toMatchObject({ size: 7, metadata: { v: '2' } });
    });

    test('a write into a path the disk refuses (a file where a folder should be) is a typed storage error', async () => {
      await Bun.write(join(root, 'blocked'), 'a plain file where the folder would go');
      const spool = join(mkdtempSync(join(tmpdir(), 'mediaforge-spool-')), 'spool');
      await Bun.write(spool, 'bytes');
      const sha256 = new Bun.CryptoHasher('sha256').update('bytes').digest('hex');
      const put = store().putFile;
      if (!put) throw new Error('the file store implements putFile');
      await expect(put('blocked/x.txt', spool, { contentType: 'text/plain', size: 5, sha256 })).rejects.toMatchObject({
        name: 'StorageError',
      });
      await expect(
        store().put('blocked/y.txt', new Uint8Array([1]), { contentType: 'text/plain' }),
      ).rejects.toMatchObject({ name: 'StorageError' });
    });
  },
});

test('sweepTemporary removes only temporary files older than the grace a crashed write left, at any depth', async () => {
  const root = mkdtempSync(join(tmpdir(), 'mediaforge-temp-sweep-'));
  const store = createFileStore({ root });
  await store.put('audio/kept.wav', new Uint8Array([1, 2, 3]), { contentType: 'audio/wav' });
  const old = new Date(Date.now() - 3_600_000);
  const paths = {
    stale: join(root, 'audio', '.0123456789ab.tmp'),
    deep: join(root, 'a', 'b', '.cafebabe0000.tmp'),
    fresh: join(root, 'audio', '.ffffffffffff.tmp'),
    lookalike: join(root, 'audio', 'x.0123456789ab.tmp'),
  };
  for (const path of Object.values(paths)) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, 'partial');
  }
  for (const path of [paths.stale, paths.deep, paths.lookalike]) utimesSync(path, old, old);
  expect(await store.sweepTemporary?.(60_000)).toBe(2);
  expect(Object.fromEntries(Object.entries(paths).map(([name, path]) => [name, existsSync(path)]))).toEqual({
    stale: false,
    deep: false,
    fresh: true,
    lookalike: true,
  });
  expect((await store.head('audio/kept.wav'))?.size).toBe(3);
  expect(await createFileStore({ root: join(root, 'missing') }).sweepTemporary?.(0)).toBe(0);
});
