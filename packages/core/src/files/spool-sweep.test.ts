import { expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sweepSpool } from './spool-sweep.ts';

test('old spool files are removed; fresh ones (a file being prepared now) and other files stay', async () => {
  const home = mkdtempSync(join(tmpdir(), 'mediaforge-spool-sweep-'));
  mkdirSync(join(home, 'tmp'));
  const old = join(home, 'tmp', 'spool-old');
  await Bun.write(old, 'left by a killed process');
  const past = new Date(Date.now() - 3 * 3_600_000);
  utimesSync(old, past, past);
  await Bun.write(join(home, 'tmp', 'spool-fresh'), 'in use');
  await Bun.write(join(home, 'tmp', 'other'), 'not ours');
  expect(await sweepSpool(home, 3_600_000)).toBe(1);
  expect(await Bun.file(old).exists()).toBe(false);
  expect(await Bun.file(join(home, 'tmp', 'spool-fresh')).exists()).toBe(true);
  expect(await Bun.file(join(home, 'tmp', 'other')).exists()).toBe(true);
  expect(await sweepSpool(join(home, 'missing'), 0)).toBe(0);
});
