import { describe, expect, test } from 'bun:test';
import {
  installCommand,
  missingPackages,
  requireTool,
  SYSTEM_TOOLS,
  setUpSystemTools,
  type Which,
  which,
} from './system-tools.ts';

/** A machine on which only `present` (and apt-get) exist. */
const machine =
  (present: string[]): Which =>
  (command) =>
    command === 'apt-get' || present.includes(command) ? `/usr/bin/${command.replace(/^\/usr\/bin\//, '')}` : undefined;

const ALL = SYSTEM_TOOLS.map((tool) => tool.command);

describe('the missing-tool list', () => {
  test('names each missing package once, in list order, and nothing present', () => {
    const present = ALL.filter((command) => !['ffprobe', 'ffmpeg', '/usr/bin/chromium', 'nginx'].includes(command));
    expect(missingPackages(ALL, machine(present))).toEqual(['chromium', 'ffmpeg', 'nginx-light']);
    expect(missingPackages(ALL, machine(ALL))).toEqual([]);
  });

  test('a fresh machine lacks every package of the list', () => {
    expect(missingPackages(ALL, machine([]))).toEqual([
      'chromium',
      'ffmpeg',
      'file',
      'awscli',
      'imagemagick',
      'nginx-light',
      'rclone',
      'wrk',
      'curl',
      'time',
      'postgresql',
    ]);
  });

  test('nginx (sbin) and pg_ctl (off PATH) are found whatever PATH says', () => {
    const saved = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      expect(which('nginx')).toBe('/usr/sbin/nginx');
      expect(which('pg_ctl')).toMatch(/^\/usr\/lib\/postgresql\/\d+\/bin\/pg_ctl$/);
    } finally {
      process.env.PATH = saved;
    }
  });
});

describe('the printed command', () => {
  test('uses sudo unless root, and updates the package lists first', () => {
    expect(installCommand(['chromium', 'wrk'], false)).toBe(
      'sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium wrk',
    );
    expect(installCommand(['chromium'], true)).toBe(
      'apt-get update && apt-get install -y --no-install-recommends chromium',
    );
  });

  test('a test whose tool is absent fails with the command that installs it', () => {
    expect(() => requireTool('ffprobe', machine([]))).toThrow(
      /^ffprobe is missing: (sudo )?apt-get update && (sudo )?apt-get install -y --no-install-recommends ffmpeg$/,
    );
    expect(requireTool('file', machine(['file']))).toBe('/usr/bin/file');
  });
});

describe('set-up', () => {
  const run = async (present: string[], root: boolean, aptSucceeds = true) => {
    const lines: string[] = [];
    const calls: string[][] = [];
    const missing = await setUpSystemTools({
      find: machine(present),
      root,
      print: (line) => lines.push(line),
      apt: async (args) => {
        calls.push(args);
        if (aptSucceeds && args[0] === 'install') present.push(...ALL);
        return aptSucceeds;
      },
    });
    return { lines, calls, missing };
  };

  test('does nothing and prints nothing when every tool is present', async () => {
    expect(await run([...ALL], true)).toEqual({ lines: [], calls: [], missing: [] });
  });

  test('as root: apt-get update, then one quiet install of exactly the missing packages, said in one line', async () => {
    const { lines, calls, missing } = await run(
      ALL.filter((command) => command !== 'wrk' && command !== 'aws'),
      true,
    );
    expect(calls).toEqual([
      ['update', '-qq'],
      ['install', '-y', '-qq', '--no-install-recommends', 'awscli', 'wrk'],
    ]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toStartWith('[test tools] installing awscli wrk with apt-get (log: ');
    expect(missing).toEqual([]);
  });

  test('as root, a failed apt-get is reported with its log and the missing packages are returned', async () => {
    const { lines, missing } = await run([], true, false);
    expect(missing).toContain('chromium');
    expect(lines.at(-1)).toMatch(/apt-get failed \(see .*mediaforge-test-tools\.log\)/);
  });

  test('not root: installs nothing and prints the exact sudo command', async () => {
    const { lines, calls, missing } = await run(
      ALL.filter((command) => command !== '/usr/bin/chromium'),
      false,
    );
    expect(calls).toEqual([]);
    expect(missing).toEqual(['chromium']);
    expect(lines).toEqual([
      '[test tools] missing chromium; the tests that need them will fail. ' +
        'Install: sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium',
    ]);
  });
});
