/** Opens the database: embedded PGlite by default, PostgreSQL when a URL is given. Same schema, same migrations. */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { maskUrl } from '../config/mask.ts';
import { DatabaseError } from '../errors.ts';
import { countReleasedBytes } from '../memory.ts';
import { createPgListener } from './pg-listener.ts';
import { seedFromTemplate } from './pglite-template.ts';
import { preparingClient } from './prepared-client.ts';
import * as schema from './schema.ts';

export type Schema = typeof schema;
/** The drizzle database, whichever driver is underneath. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export interface Database {
  readonly db: Db;
  readonly kind: 'pglite' | 'postgres';
  /** Applies pending migrations; safe to call from many processes at once. */
  migrate(): Promise<void>;
  /** Calls `onPayload` for every NOTIFY on `channel` (PostgreSQL: from any process; PGlite: from this one). */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** `postgres://…`; when absent, PGlite is used. */
  url?: string;
  /** PGlite data directory; absent means in-memory. */
  dataDir?: string;
  /** Pool size for PostgreSQL. */
  maxConnections?: number;
}

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url));
/** Arbitrary constant: the advisory lock key that serialises concurrent migrators. */
const MIGRATION_LOCK_KEY = 7_311_420_001;

/**
 * PostgreSQL settings for a single-user CLI rather than a server: PGlite's defaults (`shared_buffers = 128MB`) cost
 * ~300 MiB RSS per process. Given on the command line, they override postgresql.conf, so data directories written
 * with other settings open unchanged. PGlite is one backend, so the shared memory sized by backends (100
 * connections, 10 WAL senders, 3 autovacuum workers) is cut to 6, with more locks per transaction so one
 * transaction may still lock 1,536 objects (a migration locks each table and index it creates). Shared memory
 * 15 → 13 MB.
 */
export const PGLITE_SETTINGS: Readonly<Record<string, string>> = {
  max_connections: '4',
  max_locks_per_transaction: '256',
  max_wal_senders: '0',
  autovacuum_max_workers: '1',
  shared_buffers: '8MB',
  temp_buffers: '1MB',
  wal_buffers: '256kB',
  work_mem: '2MB',
  maintenance_work_mem: '16MB',
};

export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<Database> {
  return options.url ? openPostgres(options.url, options.maxConnections ?? 10) : openPglite(options.dataDir);
}

async function openPglite(dataDir: string | undefined): Promise<Database> {
  countReleasedBytes();
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  if (dataDir) mkdirSync(dirname(dataDir), { recursive: true });
  const releaseLock = dataDir ? lockDataDir(dataDir) : () => {};
  let client: InstanceType<typeof PGlite>;
  try {
    if (dataDir && !(await seedFromTemplate(dataDir, pgliteVersion()))) mkdirSync(dataDir, { recursive: true });
    const startParams = [
      ...PGlite.defaultStartParams,
      ...Object.entries(PGLITE_SETTINGS).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    ];
    client = new PGlite({ dataDir, startParams });
    await client.waitReady;
  } catch (cause) {
    releaseLock();
    throw new DatabaseError(
      `Could not open the embedded database at ${dataDir ?? 'memory'}: ${(cause as Error).message}. Is another mediaforge process using it? The embedded database allows one process; use DATABASE_URL for more.`,
      { cause, transient: false },
    );
  }
  const db = drizzle({ client: preparingClient(client), schema }) as unknown as Db;
  return {
    db,
    kind: 'pglite',
    migrate: () => migrate(db as never, { migrationsFolder: MIGRATIONS_FOLDER }),
    async listen(channel, onPayload) {
      const unlisten = await client.listen(channel, onPayload);
      return () => unlisten();
    },
    close: () => client.close().finally(releaseLock),
  };
}

/** The installed PGlite's version: a template written by another may not open with it. */
export function pgliteVersion(): string {
  const manifest = new URL('../package.json', import.meta.resolve('@electric-sql/pglite'));
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

/**
 * PGlite keeps the database in this process's memory and writes it back on close, so a second process opening the
 * same directory would silently lose one side's writes. A lock file with the owner's pid refuses that up front (a
 * lock left by a dead process is taken over).
 */
function lockDataDir(dataDir: string): () => void {
  const path = join(dataDir, '..', `${basename(dataDir)}.lock`);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx' });
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && processAlive(owner)) {
        throw new DatabaseError(
          `The embedded database at ${dataDir} is in use by process ${owner} (mediaforge serve or a worker?). The embedded database allows one process at a time: stop that one, or set DATABASE_URL to use PostgreSQL.`,
          { transient: false, details: { pid: owner, dataDir } },
        );
      }
      rmSync(path, { force: true });
    }
  }
  throw new DatabaseError(`Could not lock the embedded database at ${dataDir}.`, { transient: false });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function openPostgres(url: string, max: number): Promise<Database> {
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const { migrate } = await import('drizzle-orm/postgres-js/migrator');
  const client = postgres(url, { max, onnotice: () => {}, connect_timeout: 10 });
  try {
    await client`select 1`;
  } catch (cause) {
    await client.end({ timeout: 1 }).catch(() => {});
    throw new DatabaseError(`Cannot reach PostgreSQL at ${maskUrl(url)}: ${(cause as Error).message}`, { cause });
  }
  const db = drizzle({ client: preparingClient(client), schema }) as unknown as Db;
  const listener = createPgListener(postgres, url);
  return {
    db,
    kind: 'postgres',
    async migrate() {
      const lock = await client.reserve();
      try {
        await lock`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
        await migrate(db as never, { migrationsFolder: MIGRATIONS_FOLDER });
      } finally {
        await lock`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.catch(() => {});
        lock.release();
      }
    },
    listen: (channel, onPayload) => listener.listen(channel, onPayload),
    close: async () => {
      await listener.close();
      await client.end({ timeout: 5 });
    },
  };
}
