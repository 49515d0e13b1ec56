import { expect, test } from 'bun:test';
import { join } from 'node:path';

// Benchmarks never run in CI; this runs each at tiny sizes so they keep working.
test('every benchmark runs at smoke size and reports its table', async () => {
  const child = Bun.spawn(['bun', join(import.meta.dir, 'run.ts'), '--smoke'], { stdout: 'pipe', stderr: 'pipe' });
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  expect(err).toContain('running storage-memory (smoke)');
  expect(err).toContain('running ingest-memory (smoke)');
  expect(out).toContain('## Storage: peak RSS putting a 1 GiB stream');
  expect(out).toContain('## Ingest: peak RSS ingesting a 1 GiB file');
  expect(out).toMatch(/\| s3 \| 16777216 \|/);
  expect(out).toMatch(/\| URL → local disk \+ PostgreSQL \| 16777260 \|/);
  expect(code).toBe(0);
});
