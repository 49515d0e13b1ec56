/**
 * A PostgreSQL server of the suite's own: its own data directory and port, never the shared server on 5432, so the
 * suite can restart it and cut its connections mid-run. Built from the Debian server binaries (initdb, pg_ctl);
 * PostgreSQL refuses to run as root, so as root it runs as the `postgres` user.
 */
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installCommand } from '@mediaforge/core/testing';
import postgres from 'postgres';
import { freePort } from './net.ts';

export interface DedicatedPostgres {
  url: string;
  port: number;
  /** Stops the server the hard way (`immediate`: every connection dropped, no checkpoint) and starts it again. */
  restart(downMs?: number): Promise<void>;
  /** Stops the server (immediate) until `start()`. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Terminates every client connection (what a failover or a network blip does), keeping the server up. */
  dropConnections(): Promise<number>;
  destroy(): Promise<void>;
}

function binaries(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const version of versions) {
    const bin = join(root, version, 'bin');
    if (existsSync(join(bin, 'pg_ctl'))) return bin;
  }
  throw new Error(`PostgreSQL server binaries not found under /usr/lib/postgresql: ${installCommand(['postgresql'])}`);
}

/** `runuser` lives in sbin, which a CI runner's PATH may leave out. */
function runuser(): string {
  const found = Bun.which('runuser', { PATH: `${process.env.PATH ?? ''}:/usr/local/sbin:/usr/sbin:/sbin` });
  if (!found) throw new Error('runuser (util-linux) is needed to run PostgreSQL as the postgres user');
  return found;
}

async function run(command: string[], asPostgres: boolean): Promise<string> {
  const argv = asPostgres ? [runuser(), '-u', 'postgres', '--', ...command] : command;
  const child = Bun.spawn(argv, { stdout: 'pipe', stderr: 'pipe', stdin: 'ignore' });
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  if (code !== 0) throw new Error(`${command.join(' ')} exited with ${code}: ${(err || out).slice(-1500)}`);
  return out;
}

export async function startDedicatedPostgres(): Promise<DedicatedPostgres> {
  const bin = binaries();
  const asPostgres = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'mediaforge-chaos-pg-'));
  if (asPostgres) {
    const { uid, gid } = await postgresIds();
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const port = await freePort();
  await run([join(bin, 'initdb'), '-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8'], asPostgres);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  const pgCtl = (...args: string[]) =>
    run([join(bin, 'pg_ctl'), '-D', data, '-l', join(dir, 'server.log'), '-o', options, ...args], asPostgres);
  await pgCtl('-w', 'start');
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    async stop() {
      await pgCtl('-m', 'immediate', '-w', 'stop');
    },
    async start() {
      await pgCtl('-w', 'start');
    },
    async restart(downMs = 1000) {
      await pgCtl('-m', 'immediate', '-w', 'stop');
      await Bun.sleep(downMs);
      await pgCtl('-w', 'start');
    },
    async dropConnections() {
      const admin = postgres(url, { max: 1, onnotice: () => {} });
      try {
        const rows = await admin`select pg_terminate_backend(pid) as ok from pg_stat_activity
          where pid <> pg_backend_pid() and backend_type = 'client backend'`;
        return rows.filter((row) => row.ok).length;
      } finally {
        await admin.end({ timeout: 1 });
      }
    },
    async destroy() {
      await pgCtl('-m', 'immediate', '-w', 'stop').catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([run(['id', '-u', 'postgres'], false), run(['id', '-g', 'postgres'], false)]);
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}
