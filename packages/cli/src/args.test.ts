import { describe, expect, test } from 'bun:test';
import { defineCommand } from 'citty';
import { parseChoice, parseIntArg, parseSizeKbArg } from './args.ts';
import { CLIError } from './cli-error.ts';
import { runCli } from './run.ts';

describe('option parsing', () => {
  test('parseIntArg accepts integers in range and names the option otherwise', () => {
    expect(parseIntArg('25', 'size')).toBe(25);
    for (const bad of ['0', '-3', '2.5', 'ten', '']) {
      expect(() => parseIntArg(bad, 'size', { max: 100 })).toThrow(CLIError);
    }
    expect(() => parseIntArg('101', 'size', { max: 100 })).toThrow(
      '--size must be an integer between 1 and 100 (got "101")',
    );
  });

  test('parseSizeKbArg takes decimal KiB from 1 to MAX_FILE_SIZE_MB, with a typed error otherwise', () => {
    const settings = { maxFileSizeBytes: 2 * 1024 * 1024, maxFileSizeMb: 2 };
    expect(parseSizeKbArg('15', settings)).toBe(15);
    expect(parseSizeKbArg(' 1.5 ', settings)).toBe(1.5);
    expect(parseSizeKbArg('2048', settings)).toBe(2048);
    for (const bad of ['0x10', '1e3', '', ' ', '0', '0.5', '-4', 'Infinity', 'NaN', '12kb']) {
      expect(() => parseSizeKbArg(bad, settings)).toThrow('--size must be a number of KiB >= 1');
    }
    expect(() => parseSizeKbArg('2049', settings)).toThrow(
      expect.objectContaining({ code: 'FILE_SIZE_EXCEEDED' }) as unknown as Error,
    );
  });

  test('parseChoice lists the allowed values', () => {
    expect(parseChoice('audio', 'type', ['audio', 'video'])).toBe('audio');
    expect(parseChoice(undefined, 'type', ['audio'])).toBeUndefined();
    expect(() => parseChoice('x', 'type', ['audio', 'video'])).toThrow('--type must be one of audio, video (got "x")');
  });
});

describe('runCli', () => {
  const seen: unknown[] = [];
  const root = defineCommand({
    meta: { name: 'tool', version: '1.2.3' },
    subCommands: {
      greet: defineCommand({
        args: { name: { type: 'string' }, loud: { type: 'boolean', alias: 'l' }, dryRun: { type: 'boolean' } },
        run: ({ args }) => {
          seen.push(args);
          return args.name === 'fail' ? 1 : undefined;
        },
      }),
    },
  });
  const errors: string[] = [];
  const run = (argv: string[]) => runCli(root, argv, { stderr: (line) => errors.push(line) });

  test('runs the command and returns its exit code', async () => {
    expect(await run(['greet', '--name', 'ada', '-l', '--dry-run'])).toBe(0);
    expect(seen.at(-1)).toMatchObject({ name: 'ada', loud: true });
    expect(await run(['greet', '--name', 'fail'])).toBe(1);
  });

  test('an unknown flag is a usage error (exit 2), not silently ignored', async () => {
    expect(await run(['greet', '--nmae', 'ada'])).toBe(2);
    expect(errors.at(-1)).toBe('error: Unknown option --nmae (see --help)');
    expect(await run(['greet', '-x'])).toBe(2);
  });

  test('an unknown subcommand is a usage error', async () => {
    expect(await run(['gret'])).toBe(2);
  });
});
