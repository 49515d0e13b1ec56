/** Serves the app with Bun.serve: streaming request bodies, no idle timeout for long uploads and SSE streams. */
import { createApp } from './app.ts';
import type { ApiDeps } from './env.ts';

export interface ServeOptions extends ApiDeps {
  /** Defaults: API_HOST and API_PORT (0 picks a free port). */
  host?: string;
  port?: number;
}

export interface StartedServer {
  url: URL;
  server: Bun.Server<undefined>;
  /** Stops accepting, lets requests in flight finish (SSE streams are closed), and stops the app's timers. */
  stop(force?: boolean): Promise<void>;
}

export function startServer(options: ServeOptions): StartedServer {
  const { app, close } = createApp(options);
  const maxBody = options.settings.maxFileSizeBytes + 1024 * 1024;
  const server = Bun.serve({
    hostname: options.host ?? options.settings.api.host,
    port: options.port ?? options.settings.api.port,
    // Uploads are streamed and bounded by MAX_FILE_SIZE_MB in the route; this is the hard ceiling above it.
    maxRequestBodySize: maxBody,
    idleTimeout: 0,
    fetch: app.fetch,
  });
  return {
    url: new URL(`http://${server.hostname}:${server.port}`),
    server,
    async stop(force = false) {
      close();
      await server.stop(force);
    },
  };
}
