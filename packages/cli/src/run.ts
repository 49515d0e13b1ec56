/** Runs the CLI: resolves the command, enforces known flags, prints help, maps errors to exit codes. */
import { FileProcessingError } from '@mediaforge/core/errors';
import { type ArgsDef, type CommandDef, renderUsage, runCommand } from 'citty';
import { CLIError } from './cli-error.ts';
import { EXIT_CODE_BY_CODE } from './exit-codes.ts';

type AnyCommand = CommandDef<ArgsDef>;

const resolve = async <T>(value: unknown): Promise<T> =>
  (typeof value === 'function' ? await (value as () => unknown)() : await value) as T;

/** Follows the positional words of `argv` down the subcommand tree. */
async function resolveCommandPath(root: AnyCommand, argv: readonly string[]): Promise<AnyCommand[]> {
  const path = [root];
  for (const word of argv) {
    if (word.startsWith('-')) continue;
    const current = path.at(-1) as AnyCommand;
    const subCommands = await resolve<Record<string, unknown> | undefined>(current.subCommands);
    if (!subCommands || !(word in subCommands)) break;
    path.push(await resolve<AnyCommand>(subCommands[word]));
  }
  return path;
}

/** citty accepts any flag; a mistyped flag should be an error, not silently ignored. */
async function rejectUnknownFlags(command: AnyCommand, argv: readonly string[]): Promise<void> {
  const args = (await resolve<ArgsDef | undefined>(command.args)) ?? {};
  const known = new Set<string>(['help', 'h']);
  for (const [name, def] of Object.entries(args)) {
    known.add(name);
    known.add(name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`));
    if (def.type === 'boolean') known.add(`no-${name}`);
    const aliases = 'alias' in def && def.alias ? [def.alias].flat() : [];
    for (const alias of aliases) known.add(alias);
  }
  for (const token of argv) {
    if (token === '--') break;
    const match = /^--?([^=]+)/.exec(token);
    if (!match || /^-\d/.test(token)) continue;
    const names = token.startsWith('--') ? [match[1] as string] : [...(match[1] as string)];
    for (const name of names) {
      if (!known.has(name)) throw new CLIError(`Unknown option ${token.startsWith('--') ? '--' : '-'}${name}`);
    }
  }
}

/** argv without the first `count` positional words (the subcommand path). */
function withoutCommandWords(argv: readonly string[], count: number): string[] {
  let remaining = count;
  return argv.filter((token) => {
    if (remaining > 0 && !token.startsWith('-')) {
      remaining -= 1;
      return false;
    }
    return true;
  });
}

export interface RunCliOptions {
  stderr?: (line: string) => void;
}

/** Runs the command line and returns the exit code: 0 ok, 1 failure, 2 usage or configuration error. */
export async function runCli(root: AnyCommand, argv: string[], { stderr = console.error }: RunCliOptions = {}) {
  const path = await resolveCommandPath(root, argv);
  const command = path.at(-1) as AnyCommand;
  const parent = path.at(-2);
  try {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(`${plain(await renderUsage(command, parent), process.stdout.isTTY)}\n`);
      return 0;
    }
    if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
      const meta = await resolve<{ version?: string }>(root.meta);
      process.stdout.write(`${meta.version}\n`);
      return 0;
    }
    const leafArgs = withoutCommandWords(argv, path.length - 1);
    await rejectUnknownFlags(command, leafArgs);
    // Run the leaf itself: citty's runCommand on the root drops a subcommand's return value (our exit code).
    const result = await runCommand(command, { rawArgs: leafArgs });
    return typeof result.result === 'number' ? result.result : 0;
  } catch (error) {
    return reportError(error, command, parent, stderr);
  }
}

async function reportError(
  error: unknown,
  command: AnyCommand,
  parent: AnyCommand | undefined,
  stderr: (line: string) => void,
): Promise<number> {
  // Ours, or citty's own CLIError (a different class with codes such as E_UNKNOWN_COMMAND).
  const isUsage = error instanceof CLIError || (error instanceof Error && error.name === 'CLIError');
  if (isUsage) {
    const code = (error as { code?: string }).code;
    if (code === 'E_NO_COMMAND' || code === 'E_UNKNOWN_COMMAND') {
      process.stderr.write(`${plain(await renderUsage(command, parent), process.stderr.isTTY)}\n`);
    }
    stderr(`error: ${(error as Error).message} (see --help)`);
    return 2;
  }
  if (error instanceof FileProcessingError) {
    stderr(`error [${error.code}]: ${error.message}`);
    return EXIT_CODE_BY_CODE[error.code];
  }
  if (isMissingSchema(error)) {
    stderr('error [SCHEMA_MISSING]: the database has no mediaforge tables yet; run `mediaforge migrate` first.');
    return 1;
  }
  stderr(`error: ${error instanceof Error ? error.message : String(error)}`);
  if (process.env.LOG_LEVEL === 'debug' || process.env.LOG_LEVEL === 'trace') stderr(String((error as Error).stack));
  return 1;
}

/** PostgreSQL's undefined_table (42P01), seen when DATABASE_URL points at an unmigrated database. */
function isMissingSchema(error: unknown): boolean {
  for (let e = error as { code?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code === '42P01') return true;
  }
  return false;
}

/** Usage text is coloured by citty; pipes and files get it without escape codes. */
function plain(text: string, isTTY: boolean | undefined): string {
  return isTTY ? text : Bun.stripANSI(text);
}
