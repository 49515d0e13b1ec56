/** `mediaforge config`: the effective configuration, secrets masked. */
import { describeSettings, loadSettings } from '@mediaforge/core/settings';
import { defineCommand } from 'citty';
import { jsonArg } from '../args.ts';
import { printJson } from '../output.ts';

export default defineCommand({
  meta: { name: 'config', description: 'Show the effective configuration (secrets masked)' },
  args: { ...jsonArg },
  run({ args }) {
    const described = describeSettings(loadSettings());
    if (args.json) return printJson(described);
    const flat = flatten(described);
    const width = Math.max(...flat.map(([key]) => key.length));
    for (const [key, value] of flat) process.stdout.write(`${key.padEnd(width)}  ${value}\n`);
  },
});

function flatten(value: Record<string, unknown>, prefix = ''): [string, string][] {
  return Object.entries(value).flatMap(([key, inner]): [string, string][] =>
    inner !== null && typeof inner === 'object'
      ? flatten(inner as Record<string, unknown>, `${prefix}${key}.`)
      : [[`${prefix}${key}`, inner === undefined ? '-' : String(inner)]],
  );
}
