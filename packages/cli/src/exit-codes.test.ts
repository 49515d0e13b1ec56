import { describe, expect, test } from 'bun:test';
import {
  ConfigError,
  type ErrorCode,
  FileProcessingError,
  InvalidUidError,
  RecordNotFoundError,
} from '@mediaforge/core';
import { StorageError } from '@mediaforge/storage';
import { defineCommand } from 'citty';
import { CLIError } from './cli-error.ts';
import { runCli } from './run.ts';

/** A CLI whose one command throws what it is given. */
async function exitCodeFor(error: unknown): Promise<{ code: number; line: string | undefined }> {
  const lines: string[] = [];
  const root = defineCommand({
    subCommands: {
      fail: defineCommand({
        run: () => {
          throw error;
        },
      }),
    },
  });
  const code = await runCli(root, ['fail'], { stderr: (line) => lines.push(line) });
  return { code, line: lines.at(-1) };
}

describe('exit codes follow the error code', () => {
  test.each([
    ['a bad configuration', new ConfigError('DATABASE_URL is not a URL'), 2],
    ['a malformed uid', new InvalidUidError('nope'), 2],
    ['a usage error, whatever its code', new CLIError('--size is over MAX_FILE_SIZE_MB', 'FILE_SIZE_EXCEEDED'), 2],
    ['a missing record', new RecordNotFoundError('12345678-1234-5678-9012-123456789012'), 1],
    ['a storage outage', new StorageError('s3', 'STORAGE_TRANSIENT', 'down'), 1],
  ] as const)('%s exits %i', async (_, error, expected) => {
    expect((await exitCodeFor(error)).code).toBe(expected);
  });

  test('the error code is printed for scripts to match', async () => {
    const code: ErrorCode = 'CLAIM_LOST';
    expect((await exitCodeFor(new FileProcessingError('taken over', code))).line).toBe(
      'error [CLAIM_LOST]: taken over',
    );
  });
});
