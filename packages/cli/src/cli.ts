/** The `mediaforge` command tree; subcommands load lazily so `--help` stays fast. */
import { defineCommand } from 'citty';
import pkg from '../package.json' with { type: 'json' };

export const mediaforge = defineCommand({
  meta: {
    name: 'mediaforge',
    version: pkg.version,
    description: 'Turn database records into stored, verified media files',
  },
  subCommands: {
    config: () => import('./commands/config.ts').then((m) => m.default),
    migrate: () => import('./commands/migrate.ts').then((m) => m.default),
    records: () => import('./commands/records.ts').then((m) => m.default),
  },
});
