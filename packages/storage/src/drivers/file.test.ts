import { expect, test } from 'bun:test';
import { mkdtempSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  },
});
