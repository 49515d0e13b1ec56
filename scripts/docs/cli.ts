/** docs/cli.md: the usage text of every `mediaforge` command, as `--help` prints it. */
import { mediaforge } from '../../packages/cli/src/cli.ts';
import { commandUsages } from '../../packages/cli/src/usage.ts';
import { generatedFrom } from './markdown.ts';

export async function renderCli(): Promise<string> {
  const usages = await commandUsages(mediaforge);
  const sections = usages.map(({ path, usage }) => {
    const text = usage
      .split('\n')
      .map((line) => line.trimEnd())
      .join('\n')
      .trim();
    return `## \`mediaforge${path.map((word) => ` ${word}`).join('')}\`\n\n\`\`\`text\n${text}\n\`\`\``;
  });
  return `# CLI reference

${generatedFrom('the citty commands in packages/cli/src/commands')}

Run it as \`bunx mediaforge …\` inside the repository, or \`bun packages/cli/src/main.ts …\`. Every command has
\`--help\`. Exit codes: \`0\` success, \`1\` failure, \`2\` usage or configuration error. Errors print one line on
stderr — \`error [CODE]: message\`, or \`error: … (see --help)\` for a usage mistake (an unknown command also prints
the usage; an unknown flag is an error, not ignored). Commands that print results accept \`--json\` (one JSON document
on stdout; logs stay on stderr).

${sections.join('\n\n')}
`;
}
