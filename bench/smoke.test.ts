import { expect, test } from 'bun:test';
import { join } from 'node:path';

// Benchmarks never run in CI; this runs each at tiny sizes so they keep working. Their peers (pg-boss,
// graphile-worker, ffmpeg, ImageMagick, file) run too: .ci/run installs the command-line ones.
test('every benchmark runs at smoke size and reports its table', async () => {
  const child = Bun.spawn(['bun', join(import.meta.dir, 'run.ts'), '--smoke'], { stdout: 'pipe', stderr: 'pipe' });
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  for (const name of [
    'storage-memory',
    'ingest-memory',
    'queue',
    'queue-scale',
    'synthesis',
    'images',
    'validation',
    'ingest',
    'api',
    'embedded',
  ]) {
    expect(err).toContain(`running ${name} (smoke)`);
  }
  expect(out).toContain('## Storage: peak RSS putting a 1 GiB stream');
  expect(out).toMatch(/\| s3 \| 16777216 \|/);
  expect(out).toMatch(/\| URL → local disk \+ PostgreSQL \| 16777260 \|/);
  // Every queue ran every job, on PostgreSQL and on PGlite.
  for (const system of ['mediaforge', 'mediaforge-prefetch', 'pg-boss', 'graphile-worker', 'graphile-worker-batched']) {
    const number = '[0-9.]+ \\| ';
    expect(out).toMatch(new RegExp(`\\| ${system} \\| PostgreSQL \\| 300 \\| ${number.repeat(6)}yes \\|`));
  }
  expect(out).toMatch(/\| pg-boss \| PGlite \| 100 \| .* \| yes \|/);
  expect(out).toMatch(/\| video\/mp4 15 KiB \| [0-9.]+ \| 15\.0 \| ffmpeg \| [0-9.]+ \|/);
  expect(out).toMatch(/\| jpeg \| sharp \(direct\) \| [0-9.]+ \|/);
  expect(out).toMatch(/\| png \| ImageMagick convert \| [0-9.]+ \|/);
  expect(out).toMatch(/\| fixture corpus \(\d+ files\) \| ffprobe -show_format -show_streams \| \d+ \|/);
  // Every tool moved every file, to disk and to S3; the API answered reads and took uploads.
  for (const tool of ['mediaforge ingest', 'curl --parallel', 'rclone copy']) {
    expect(out).toMatch(new RegExp(`\\| 20 × 16 KiB \\| local disk \\| ${tool} \\| [0-9.]+ \\|`));
  }
  expect(out).toMatch(/\| 2 × 2 MiB \| S3 \(s3rver\) \| curl piped to aws s3 cp - \| [0-9.]+ \|/);
  expect(out).toMatch(
    /\| GET \/v1\/records\/\{uid\}, 32 connections \(req\/s\) \| \d+ \| bare Bun\.serve \+ one prepared postgres\.js query \| \d+ \|/,
  );
  expect(out).toMatch(/\| GET \/health, 32 connections \(req\/s\) \| \d+ \| bare Bun\.serve \| \d+ \|/);
  // The scale run burnt its one task down and measured each step.
  expect(out).toMatch(/\| 20000 \| [0-9.]+ \| \d+ \| [0-9.]+ \|/);
  expect(out).toMatch(
    /\| upload 8 MiB WAV \(MB\/s\) \| [0-9.]+ \| bare Bun\.serve writing the body to a file \| [0-9.]+ \|/,
  );
  expect(code).toBe(0);
}, 600_000);
