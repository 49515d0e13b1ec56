/** Usage text of every command in the tree, plain (no colours): what `--help` prints, and what docs/cli.md is built from. */
import { type ArgsDef, type CommandDef, renderUsage } from 'citty';

type AnyCommand = CommandDef<ArgsDef>;

export interface CommandUsage {
  /** The words that run it, e.g. `['jobs', 'list']` (empty for the root). */
  path: string[];
  usage: string;
}

const resolve = async <T>(value: unknown): Promise<T> =>
  (typeof value === 'function' ? await (value as () => unknown)() : await value) as T;

/** Walks the command tree depth first, in the order the commands are declared. */
export async function commandUsages(root: AnyCommand): Promise<CommandUsage[]> {
  const usages: CommandUsage[] = [];
  const visit = async (command: AnyCommand, parent: AnyCommand | undefined, path: string[]) => {
    usages.push({ path, usage: Bun.stripANSI(await renderUsage(command, parent)) });
    const subCommands = await resolve<Record<string, unknown> | undefined>(command.subCommands);
    for (const [name, sub] of Object.entries(subCommands ?? {})) {
      await visit(await resolve<AnyCommand>(sub), command, [...path, name]);
    }
  };
  await visit(root, undefined, []);
  return usages;
}
