/** Worker processes (`mediaforge-worker`, as deployed) on one PostgreSQL and one local object store, for tests. */
import { join } from 'node:path';
import { type Database, openDatabase, TaskManager, type TaskManagerDeps } from '@mediaforge/core';
import { createTestPostgres, type TestPostgres } from '@mediaforge/core/testing';

/** A throwaway, migrated PostgreSQL database and a task manager on it (drop `pg` after the suite). */
export async function queueOnPostgres(
  settings: Partial<TaskManagerDeps['settings']> = {},
): Promise<{ pg: TestPostgres; database: Database; manager: TaskManager }> {
  const pg = await createTestPostgres();
  const database = await openDatabase({ url: pg.url });
  await database.migrate();
  const manager = new TaskManager({
    database,
    settings: {
      maxBatchSize: 1000,
      allowHosts: [],
      maxFileSizeBytes: 50 * 1024 * 1024,
      taskTimeoutMinutes: 30,
      ...settings,
    },
  });
  return { pg, database, manager };
}

const WORKER_MAIN = join(import.meta.dir, '../../packages/worker/src/main.ts');

export interface WorkerProcessEnv {
  databaseUrl: string;
  home: string;
  objects: string;
  /** Extra variables (settings under test). */
  env?: Record<string, string>;
}

export function workerProcesses(base: WorkerProcessEnv) {
  const children: ReturnType<typeof Bun.spawn>[] = [];
  return {
    /** Starts one worker with `args` (e.g. `--queues a,b`); short lease and grace, logs at warn. */
    spawn(args: string[] = [], env: Record<string, string> = {}) {
      const child = Bun.spawn([process.execPath, WORKER_MAIN, '--lease', '2', '--grace', '5', ...args], {
        env: {
          ...process.env,
          DATABASE_URL: base.databaseUrl,
          STORAGE_URL: `file://${base.objects}`,
          MEDIAFORGE_HOME: base.home,
          LOG_LEVEL: 'warn',
          ...base.env,
          ...env,
        },
        stdout: 'ignore',
        stderr: 'ignore',
        stdin: 'ignore',
      });
      children.push(child);
      return child;
    },
    /** SIGTERM every worker and wait for them to drain. */
    async stopAll() {
      const live = children.splice(0);
      for (const child of live) child.kill('SIGTERM');
      await Promise.all(live.map((child) => child.exited));
    },
    killAll() {
      for (const child of children.splice(0)) child.kill('SIGKILL');
    },
  };
}
