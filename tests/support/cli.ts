/** Runs the real `mediaforge` executable in a child process, as a user would. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CLI_MAIN = join(import.meta.dir, '../../packages/cli/src/main.ts');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Variables a developer's shell may carry that would change what the CLI under test does. */
const SCRUBBED = ['DATABASE_URL', 'STORAGE_URL', 'MEDIAFORGE_HOME', 'LOG_LEVEL', 'S3_BUCKET', 'HZ_OBJ_BUCKET_NAME'];

export function runMediaforge(
  args: string[],
  { env = {}, cwd }: { env?: Record<string, string>; cwd?: string } = {},
): Promise<CliResult> {
  return runBun([CLI_MAIN, ...args], cwd ?? tempDir(), env);
}

/** Runs `bun <args>` in `cwd` with a scrubbed environment (LOG_LEVEL warn unless `env` says otherwise). */
export async function runBun(args: string[], cwd: string, env: Record<string, string> = {}): Promise<CliResult> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([key]) => !SCRUBBED.includes(key)));
  const child = Bun.spawn([process.execPath, ...args], {
    cwd,
    env: { ...base, LOG_LEVEL: 'warn', ...env },
    stdout: 'pipe',
    stderr: 'pipe',
    stdin: 'ignore',
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { code, stdout, stderr };
}

export function tempDir(prefix = 'mediaforge-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
