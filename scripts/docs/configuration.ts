/** docs/configuration.md: every environment variable, from the env schema and its ENV_DOCS table. */
import { ENV_DOCS, ENV_GROUPS, type EnvDoc, envSchema, SECRET_VARIABLES } from '../../packages/core/src/index.ts';
import { generatedFrom, table } from './markdown.ts';

export function renderConfiguration(): string {
  const defaults = envSchema.parse({}) as Record<string, unknown>;
  const docs: [string, EnvDoc][] = Object.entries(ENV_DOCS);
  const sections = Object.entries(ENV_GROUPS).map(([group, title]) => {
    const rows = docs
      .filter(([, doc]) => doc.group === group)
      .map(([variable, doc]) => {
        const value = defaults[variable];
        const fallback = value === undefined ? `_${doc.unset ?? 'unset'}_` : `\`${String(value)}\``;
        const secret = SECRET_VARIABLES.has(variable) ? ' Secret: masked by `mediaforge config`, never logged.' : '';
        return [`\`${variable}\``, fallback, `${doc.meaning}${secret}`];
      });
    return `## ${title}\n\n${table(['variable', 'default', 'meaning'], rows)}`;
  });
  return `# Configuration

${generatedFrom('packages/core/src/config/env-schema.ts and env-docs.ts')}

All settings come from the environment; a \`.env\` file in the working directory is read too (Bun loads it).
Invalid settings stop every command with one message naming each bad variable and why (exit code 2): numbers
are plain decimals (no \`0x10\` or \`1e-7\`), durations that drive a timer are refused past 2^31 − 1 ms, and
nothing is clamped silently. \`mediaforge config\` prints the effective configuration with secrets masked.

${sections.join('\n\n')}
`;
}
