/** `mediaforge serve`: the HTTP API and dashboard, with an in-process worker pool unless `--no-worker`. */
import { startServer } from '@mediaforge/api';
import { exitSoonAfterStop, runWorker } from '@mediaforge/worker';
import { defineCommand } from 'citty';
import pkg from '../../package.json' with { type: 'json' };
import { optionalIntArg } from '../args.ts';
import { withContext } from '../context.ts';

export default defineCommand({
  meta: {
    name: 'serve',
    description: 'Serve the HTTP API and dashboard (and run a worker pool in-process unless --no-worker)',
  },
  args: {
    host: { type: 'string', description: 'Address to listen on (default API_HOST, 127.0.0.1)' },
    port: { type: 'string', description: 'Port (default API_PORT, 8080; 0 picks a free one)' },
    worker: {
      type: 'boolean',
      default: true,
      description: 'Run a worker pool in this process (--no-worker: API only)',
    },
    concurrency: { type: 'string', description: 'Items the in-process worker runs at once (default 4)' },
  },
  run: ({ args }) =>
    withContext(async (ctx) => {
      const port = optionalIntArg(args.port, 'port', { min: 0, max: 65_535 });
      const concurrency = optionalIntArg(args.concurrency, 'concurrency', { max: 1024 });
      const database = await ctx.database();
      const store = await ctx.store();
      const logger = await ctx.logger();
      const server = startServer({
        database,
        store,
        settings: ctx.settings,
        logger,
        version: pkg.version,
        ...(args.host ? { host: args.host } : {}),
        ...(port === undefined ? {} : { port }),
      });
      const worker = args.worker
        ? await runWorker({
            settings: ctx.settings,
            logger,
            database,
            store,
            signals: false,
            ...(concurrency ? { concurrency } : {}),
          })
        : undefined;
      logger.info(
        { url: server.url.href, worker: worker?.worker.id ?? 'none', database: database.kind },
        `mediaforge ${pkg.version} serving on ${server.url.href} (dashboard: ${server.url.href}dashboard)`,
      );
      process.stderr.write(
        `mediaforge API on ${server.url.href}  ·  dashboard ${server.url.href}dashboard  ·  docs ${server.url.href}docs\n` +
          (worker ? `worker ${worker.worker.id} running in-process\n` : 'no in-process worker (--no-worker)\n'),
      );
      await new Promise<void>((resolve) => {
        let signals = 0;
        const onSignal = () => {
          signals += 1;
          if (signals > 1) process.exit(130);
          process.stderr.write('shutting down: draining requests and the worker (signal again to exit now)\n');
          resolve();
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
      });
      await Promise.all([server.stop(), worker?.stop()]);
      exitSoonAfterStop();
      return 0;
    }),
});
