/**
 * The packages as a user gets them: every package packed with `bun pm pack`, installed from the tarballs into empty
 * directories outside the repository (third-party dependencies from the npm registry), and run there — the CLI's demo
 * on embedded PGlite, and the worker installed on its own processing a PNG on PostgreSQL (sharp loads).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_USERS, type Database, openDatabase, TaskManager } from '@mediaforge/core';
import { createTestPostgres, postgresProbe, skipPostgres, type TestPostgres } from '@mediaforge/core/testing';
import { runBun, tempDir } from '../support/cli.ts';
import { installTarballs, PACKAGES, type Packed, packAll } from './packing.ts';

const PNG = join(import.meta.dir, '../../packages/core/test/fixtures/fixture.png');

describe('packed packages', () => {
  const dirs: string[] = [];
  const made = (prefix: string) => {
    const dir = tempDir(prefix);
    dirs.push(dir);
    return dir;
  };
  let packed: Record<string, Packed>;

  beforeAll(async () => {
    packed = await packAll(made('mediaforge-tarballs-'));
  }, 60_000);

  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  test('each tarball is publishable: real dependency ranges, exports and bins inside it, no tests', () => {
    for (const name of PACKAGES) {
      const { manifest, files } = packed[name] as Packed;
      expect(manifest.private).toBeUndefined();
      expect(manifest.license).toBe('MIT');
      expect(files).toContain('LICENSE');
      expect(files).toContain('README.md');
      const ranges = Object.values({ ...manifest.dependencies, ...manifest.peerDependencies });
      expect(ranges.filter((range) => /^(workspace|catalog):/.test(range))).toEqual([]);
      for (const target of [...Object.values(manifest.exports ?? {}), ...Object.values(manifest.bin ?? {})]) {
        expect(files).toContain(target.replace(/^\.\//, ''));
      }
      expect(files.filter((file) => file.endsWith('.test.ts'))).toEqual([]);
    }
    // Runtime assets that are read from disk rather than imported.
    expect(packed['@mediaforge/core']?.files).toContain('drizzle/meta/_journal.json');
    expect(packed['@mediaforge/core']?.files).toContain('src/media/validate/validation-worker.ts');
    expect(packed['@mediaforge/core']?.files).toContain('src/files/spool-hash-worker.ts');
    expect(packed['@mediaforge/api']?.files).toContain('src/dashboard/client.js');
    expect(packed['@mediaforge/api']?.files).toContain('src/dashboard/style.css');
    expect(packed['@mediaforge/cli']?.manifest.bin).toEqual({ mediaforge: './src/main.ts' });
    expect(packed['@mediaforge/worker']?.manifest.bin).toEqual({ 'mediaforge-worker': './src/main.ts' });
  });

  test('installed from the tarballs, `bunx mediaforge demo` stores and verifies a file of every media type', async () => {
    const app = made('mediaforge-install-');
    await installTarballs(app, packed, PACKAGES);
    // Without a local bin, `bunx mediaforge` would fetch an unrelated package of that name from the registry.
    expect(existsSync(join(app, 'node_modules/.bin/mediaforge'))).toBe(true);
    const demo = await runBun(['x', 'mediaforge', 'demo', '--count', '1', '--json'], app);
    expect(demo.code, demo.stderr).toBe(0);
    const report = JSON.parse(demo.stdout) as {
      records: { mediaType: string; verified: boolean; location: string; size: number }[];
    };
    expect(report.records.map((r) => r.mediaType).sort()).toEqual(['audio', 'image', 'text', 'video']);
    for (const record of report.records) {
      expect(record.verified).toBe(true);
      expect(record.location.startsWith(join(app, '.mediaforge/objects'))).toBe(true);
      expect(readFileSync(record.location).byteLength).toBe(record.size);
    }
  }, 300_000);

  if (skipPostgres) {
    console.warn(
      `\n[mediaforge tests] PostgreSQL unreachable (${postgresProbe.reason}): SKIPPING the installed-worker test. ` +
        'With CI=true it fails instead.\n',
    );
  }
  describe.skipIf(skipPostgres)('the worker installed on its own', () => {
    let pg: TestPostgres;
    let database: Database;
    let origin: ReturnType<typeof Bun.serve>;

    beforeAll(async () => {
      pg = await createTestPostgres();
      database = await openDatabase({ url: pg.url });
      await database.migrate();
      origin = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response(Bun.file(PNG)) });
    });

    afterAll(async () => {
      origin?.stop(true);
      await database?.close();
      await pg?.drop();
    });

    test('`mediaforge-worker --until-idle` ingests a PNG (sharp loads outside the repository)', async () => {
      const dir = made('mediaforge-worker-install-');
      await installTarballs(dir, packed, ['@mediaforge/worker'], ['@mediaforge/core', '@mediaforge/storage']);
      expect(existsSync(join(dir, 'node_modules/.bin/mediaforge-worker'))).toBe(true);
      expect(existsSync(join(dir, 'node_modules/@mediaforge/cli'))).toBe(false);
      expect(existsSync(join(dir, 'node_modules/@mediaforge/api'))).toBe(false);

      const manager = new TaskManager({
        database,
        settings: { maxBatchSize: 10, allowHosts: [], maxFileSizeBytes: 10 * 1024 * 1024, taskTimeoutMinutes: 5 },
      });
      const taskId = await manager.queueFileProcessing({
        scope: ALL_USERS,
        urls: [`http://127.0.0.1:${origin.port}/cover.png`],
        options: { allowPrivate: true },
      });
      const objects = join(dir, 'objects');
      const worker = await runBun(['x', 'mediaforge-worker', '--until-idle', '--connect-timeout', '10'], dir, {
        DATABASE_URL: pg.url,
        STORAGE_URL: `file://${objects}`,
      });
      expect(worker.code, worker.stderr).toBe(0);

      const status = await manager.getTaskStatus(taskId, ALL_USERS);
      expect(status.error).toBeNull();
      expect(status.progress).toMatchObject({ succeeded: 1, failed: 0, total: 1 });
      const [item] = (await manager.queue.listItems(taskId)).items;
      const result = item?.result as { storageKey: string; contentType: string; size: number };
      expect(result.contentType).toStartWith('image/');
      expect(readFileSync(join(objects, result.storageKey)).byteLength).toBe(result.size);
    }, 300_000);
  });
});
