import { expect, test } from 'bun:test';
import { join } from 'node:path';

// Benchmarks never run in CI; this runs each at tiny sizes so they keep working.
test('every benchmark runs at smoke size and meets its target', async () => {
  const child = Bun.spawn(['bun', join(import.meta.dir, 'run.ts'), '--smoke'], { stdout: 'pipe', stderr: 'pipe' });
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  expect(err).toContain('running storage-memory (smoke)');
  expect(out).toContain('target met');
  expect(code).toBe(0);
});
