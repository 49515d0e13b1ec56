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
    generate: () => import('./commands/generate.ts').then((m) => m.default),
    ingest: () => import('./commands/ingest.ts').then((m) => m.default),
    demo: () => import('./commands/demo.ts').then((m) => m.default),
    config: () => import('./commands/config.ts').then((m) => m.default),
    migrate: () => import('./commands/migrate.ts').then((m) => m.default),
    records: () => import('./commands/records.ts').then((m) => m.default),
    generations: () => import('./commands/generations.ts').then((m) => m.default),
    jobs: () => import('./commands/jobs.ts').then((m) => m.default),
    workers: () => import('./commands/workers.ts').then((m) => m.default),
    worker: () => import('./commands/worker.ts').then((m) => m.default),
    serve: () => import('./commands/serve.ts').then((m) => m.default),
    keys: () => import('./commands/keys.ts').then((m) => m.default),
  },
});
