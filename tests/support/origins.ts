/**
 * Loopback HTTP origins for tests: one that is down (404) until it is switched up, as an origin that recovers, and one
 * serving the bytes a test puts under a path.
 */

/** Serves `files` (path → bytes; 404 for any other path). */
export function filesOrigin() {
  const files = new Map<string, Uint8Array>();
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: (request) => {
      const bytes = files.get(new URL(request.url).pathname);
      return bytes ? new Response(bytes as Uint8Array<ArrayBuffer>) : new Response('none', { status: 404 });
    },
  });
  /** Serves `bytes` at `path` (which starts with /); returns its URL. */
  const serve = (path: string, bytes: Uint8Array) => {
    files.set(path, bytes);
    return `http://127.0.0.1:${server.port}${path}`;
  };
  return { server, serve };
}

export interface RecoveringOrigin {
  server: ReturnType<typeof Bun.serve>;
  /** The URL of a file named `name` on it. */
  url(name: string): string;
  /** Serve files from now on (before: 404 for everything). */
  recover(): void;
  down(): void;
}

export function recoveringOrigin(): RecoveringOrigin {
  let up = false;
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: (request) =>
      up ? new Response(`text ${new URL(request.url).pathname}\n`) : new Response('down', { status: 404 }),
  });
  return {
    server,
    url: (name) => `http://127.0.0.1:${server.port}/${name}`,
    recover: () => {
      up = true;
    },
    down: () => {
      up = false;
    },
  };
}

/** Starts `mediaforge-worker` (the package's own entry, as deployed) on PostgreSQL and the local store under `home`. */
export function spawnWorkerProcess(
  databaseUrl: string,
  home: string,
  args: string[] = [],
  env: Record<string, string> = {},
): ReturnType<typeof Bun.spawn> {
  return Bun.spawn([process.execPath, `${import.meta.dir}/../../packages/worker/src/main.ts`, ...args], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      STORAGE_URL: `file://${home}/objects`,
      MEDIAFORGE_HOME: home,
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdout: 'ignore',
    stderr: 'ignore',
    stdin: 'ignore',
  });
}
