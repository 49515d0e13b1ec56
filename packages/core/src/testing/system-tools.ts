/**
 * The Debian tools the tests use as oracles and the benchmarks as peers: one list, read by the test set-up
 * (`scripts/test-tools.ts`, which `bun run test` and CI run first), by `bench/run.ts`, and by every test that needs
 * a tool, so a test whose tool is absent fails with the exact command that installs it.
 */
import { existsSync, openSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * `command` is looked up on PATH and the sbin directories; an absolute path names the exact binary a test runs
 * (playwright launches /usr/bin/chromium; `time` and `convert` must not resolve to a shell builtin or another build).
 */
export const SYSTEM_TOOLS = [
  { command: '/usr/bin/chromium', package: 'chromium' },
  { command: 'ffmpeg', package: 'ffmpeg' },
  { command: 'ffprobe', package: 'ffmpeg' },
  { command: 'file', package: 'file' },
  { command: 'aws', package: 'awscli' },
  { command: '/usr/bin/convert', package: 'imagemagick' },
  { command: 'nginx', package: 'nginx-light' },
  { command: 'rclone', package: 'rclone' },
  { command: 'wrk', package: 'wrk' },
  { command: 'curl', package: 'curl' },
  { command: '/usr/bin/time', package: 'time' },
  // The chaos suite runs a PostgreSQL server of its own from the Debian server binaries.
  { command: 'pg_ctl', package: 'postgresql' },
] as const;

export type ToolCommand = (typeof SYSTEM_TOOLS)[number]['command'];

/** Finds a command's absolute path, or undefined; injected in tests. */
export type Which = (command: string) => string | undefined;

/** nginx and runuser live in sbin and the PostgreSQL server binaries off PATH; a CI runner's PATH has neither. */
function searchPath(): string {
  const postgres = '/usr/lib/postgresql';
  const postgresBins = existsSync(postgres)
    ? readdirSync(postgres)
        .sort((a, b) => Number(b) - Number(a))
        .map((version) => join(postgres, version, 'bin'))
    : [];
  return [process.env.PATH ?? '', '/usr/local/sbin', '/usr/sbin', '/sbin', ...postgresBins].filter(Boolean).join(':');
}

export const which: Which = (command) => Bun.which(command, { PATH: searchPath() }) ?? undefined;

const isRoot = () => process.getuid?.() === 0;

function packageOf(command: ToolCommand): string {
  return SYSTEM_TOOLS.find((tool) => tool.command === command)?.package as string;
}

/** The Debian packages to install so that every one of `commands` is found, each once, in list order. */
export function missingPackages(commands: readonly ToolCommand[], find: Which = which): string[] {
  return [...new Set(commands.filter((command) => !find(command)).map(packageOf))];
}

/** The command a person runs to install `packages`; `sudo` unless already root. */
export function installCommand(packages: readonly string[], root = isRoot()): string {
  const sudo = root ? '' : 'sudo ';
  return `${sudo}apt-get update && ${sudo}apt-get install -y --no-install-recommends ${packages.join(' ')}`;
}

/** The tool's absolute path; throws, naming the command that installs it, when it is absent. */
export function requireTool(command: ToolCommand, find: Which = which): string {
  const found = find(command);
  if (found) return found;
  throw new Error(`${command} is missing: ${installCommand([packageOf(command)])}`);
}

export const APT_LOG = join(tmpdir(), 'mediaforge-test-tools.log');

/** Runs apt-get with `args`, appending its output to the log; true when it succeeded. */
export type AptGet = (args: string[]) => Promise<boolean>;

const aptGet: AptGet = async (args) => {
  const log = openSync(APT_LOG, 'a');
  // dpkg refuses to run without ldconfig and start-stop-daemon on PATH, which live in sbin.
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', PATH: searchPath() };
  const child = Bun.spawn(['apt-get', ...args], { env, stdin: 'ignore', stdout: log, stderr: log });
  return (await child.exited) === 0;
};

export interface SetUpOptions {
  commands?: readonly ToolCommand[];
  find?: Which;
  root?: boolean;
  apt?: AptGet;
  print?: (line: string) => void;
}

/**
 * Installs the missing tools with apt-get when running as root, and otherwise prints the command that does.
 * Resolves to the packages still missing afterwards (empty when all is well).
 */
export async function setUpSystemTools({
  commands = SYSTEM_TOOLS.map((tool) => tool.command),
  find = which,
  root = isRoot(),
  apt = aptGet,
  print = console.error,
}: SetUpOptions = {}): Promise<string[]> {
  const missing = missingPackages(commands, find);
  if (missing.length === 0) return [];
  const command = installCommand(missing, root);
  if (!root || !find('apt-get')) {
    print(`[test tools] missing ${missing.join(', ')}; the tests that need them will fail. Install: ${command}`);
    return missing;
  }
  print(`[test tools] installing ${missing.join(' ')} with apt-get (log: ${APT_LOG})`);
  const installed =
    (await apt(['update', '-qq'])) && (await apt(['install', '-y', '-qq', '--no-install-recommends', ...missing]));
  if (!installed) {
    print(`[test tools] apt-get failed (see ${APT_LOG}); the command was: ${command}`);
    return missing;
  }
  return missingPackages(commands, find);
}
