import { expect, test } from 'bun:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MEMORY = join(import.meta.dir, 'memory.ts');
const DATABASE = join(import.meta.dir, 'db', 'database.ts');

test('released chunks count towards the forced collection only once the embedded database is open', async () => {
  // A process of its own: whether released bytes count is per process, and other tests open PGlite.
  const dataDir = join(mkdtempSync(join(tmpdir(), 'mediaforge-memory-')), 'db');
  const script = `
    const { releasedBytes, bytesTowardsCollection } = await import(${JSON.stringify(MEMORY)});
    const { openDatabase } = await import(${JSON.stringify(DATABASE)});
    releasedBytes(1000);
    const before = bytesTowardsCollection();
    const database = await openDatabase({ dataDir: ${JSON.stringify(dataDir)} });
    releasedBytes(1000);
    const after = bytesTowardsCollection();
    await database.close();
    console.log(JSON.stringify({ before, after }));`;
  const child = Bun.spawn(['bun', '-e', script], { stdout: 'pipe', stderr: 'pipe' });
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  expect(err).toBe('');
  expect(code).toBe(0);
  expect(JSON.parse(out.trim().split('\n').at(-1) ?? '{}')).toEqual({ before: 0, after: 1000 });
}, 60_000);
