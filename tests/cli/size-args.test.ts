/** `--size` is read by one strict parser: `schedules add` refuses what `generate` refuses, before anything is stored. */
import { expect, test } from 'bun:test';
import { runMediaforge, tempDir } from '../support/cli.ts';

test('schedules add refuses a malformed or oversized --size (exit 2, typed) and stores no schedule', async () => {
  const env = { MEDIAFORGE_HOME: tempDir('mediaforge-size-'), SCHEDULE_MIN_INTERVAL_SECONDS: '60' };
  const add = (size: string) =>
    runMediaforge(['schedules', 'add', '--cron', '*/5 * * * *', '--action', 'generate_auto', '--size', size], { env });
  // Number('0x10') is 16: it used to be stored as a 16 KiB schedule.
  const hex = await add('0x10');
  expect(hex.code).toBe(2);
  expect(hex.stderr).toContain('--size must be a number of KiB >= 1');
  const huge = await add('999999999');
  expect(huge.code).toBe(2);
  expect(huge.stderr).toContain('is over MAX_FILE_SIZE_MB');
  const listed = await runMediaforge(['schedules', 'list', '--json'], { env });
  expect((JSON.parse(listed.stdout) as { schedules: unknown[] }).schedules).toEqual([]);
}, 120_000);
