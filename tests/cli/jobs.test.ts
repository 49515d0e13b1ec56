import { afterAll, describe, expect, test } from 'bun:test';
import { existsSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { objects, openDatabase } from '@mediaforge/core';
import { createTestPostgres, skipPostgres, type TestPostgres } from '@mediaforge/core/testing';
import { eq } from 'drizzle-orm';
import { CLI_MAIN, runMediaforge, tempDir } from '../support/cli.ts';

const FIXTURES = join(import.meta.dir, '../../packages/core/test/fixtures');
// A real loopback origin serving the fixture corpus by name; `?delay=ms` answers late.
const origin = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  async fetch(request) {
    const url = new URL(request.url);
    const delay = Number(url.searchParams.get('delay') ?? 0);
    if (delay) await Bun.sleep(delay);
    const file = Bun.file(join(FIXTURES, url.pathname.slice(1)));
    return (await file.exists()) ? new Response(file) : new Response('missing', { status: 404 });
  },
});
const at = (name: string) => `http://127.0.0.1:${origin.port}/${name}`;
afterAll(() => origin.stop(true));

describe('mediaforge jobs, worker and --background (embedded database)', () => {
  const env = { MEDIAFORGE_HOME: join(tempDir(), 'home') };

  test('jobs --help lists the subcommands; worker --help its options', async () => {
    const jobs = await runMediaforge(['jobs', '--help'], { env });
    expect(jobs.code).toBe(0);
    for (const word of ['list', 'status', 'watch', 'cancel', 'prune']) expect(jobs.stdout).toContain(word);
    const worker = await runMediaforge(['worker', '--help'], { env });
    for (const word of ['--concurrency', '--queues', '--lease', '--grace', '--until-idle']) {
      expect(worker.stdout).toContain(word);
    }
  });

  test('ingest --background queues a task; a worker runs it; status, list and workers show who did what', async () => {
    const queued = await runMediaforge(
      [
        'ingest',
        '--background',
        '--allow-private',
        '--user',
        'u1',
        at('fixture.png'),
        at('fixture.wav'),
        at('nope.mp3'),
      ],
      { env },
    );
    expect(queued.code).toBe(0);
    const taskId = queued.stdout.trim();
    expect(taskId).toMatch(/^[0-9a-f-]{36}$/);
    expect(queued.stderr).toContain(`mediaforge jobs watch ${taskId}`);

    const before = JSON.parse((await runMediaforge(['jobs', 'status', taskId, '--json'], { env })).stdout);
    expect(before).toMatchObject({ status: 'queued', ready: false, progress: { completed: 0, total: 3 } });

    const worker = await runMediaforge(['worker', '--until-idle', '--concurrency', '2'], { env });
    expect(worker.code).toBe(0);

    const status = await runMediaforge(['jobs', 'status', taskId, '--json'], { env });
    expect(status.code).toBe(1);
    const after = JSON.parse(status.stdout);
    expect(after).toMatchObject({
      status: 'failed',
      ready: true,
      successful: false,
      progress: { succeeded: 2, failed: 1, total: 3, percent: 100 },
      result: { successfulFiles: 2, totalFiles: 3 },
      error: { code: 'ITEMS_FAILED' },
    });
    expect(after.result.processedFileIds).toHaveLength(2);
    expect(after.workers).toHaveLength(1);
    expect(after.workers[0]).toMatchObject({ succeeded: 2, failed: 1 });

    const text = await runMediaforge(['jobs', 'status', taskId], { env });
    expect(text.stdout).toContain('DOWNLOAD_HTTP_STATUS');
    expect(text.stdout).toMatch(/worker\s+\S+: 2 succeeded, 1 failed/);

    const records = JSON.parse((await runMediaforge(['records', 'list', '--json'], { env })).stdout);
    const uids = records.items.map((r: { uid: string }) => r.uid).sort();
    expect(uids).toEqual([...after.result.processedFileIds].sort());

    const list = JSON.parse((await runMediaforge(['jobs', 'list', '--json'], { env })).stdout);
    expect(list.tasks[0]).toMatchObject({ taskId, kind: 'ingest', status: 'failed' });

    const workers = JSON.parse((await runMediaforge(['workers', '--all', '--json'], { env })).stdout);
    expect(workers.workers[0]).toMatchObject({ state: 'stopped', processed: 2, failed: 1, concurrency: 2 });
    expect(workers.activeTasks).toBe(0);
    const online = JSON.parse((await runMediaforge(['workers', '--json'], { env })).stdout);
    expect(online.workers).toHaveLength(0);

    // A finished task: watch returns at once with its exit code; cancel refuses and says why.
    const watch = await runMediaforge(['jobs', 'watch', taskId], { env });
    expect(watch.code).toBe(1);
    expect(watch.stderr).toContain('task failed');
    const cancel = await runMediaforge(['jobs', 'cancel', taskId], { env });
    expect(cancel.code).toBe(1);
    expect(cancel.stderr).toContain('already failed');
  }, 60_000);

  test('generate auto --background, cancel a queued task, and typed errors', async () => {
    const created = await runMediaforge(['records', 'create', '--type', 'text', '--count', '3', '--json'], { env });
    expect(created.code).toBe(0);
    const queued = await runMediaforge(['generate', 'auto', '--background', '--json'], { env });
    expect(queued.code).toBe(0);
    const { taskId, total } = JSON.parse(queued.stdout);
    expect(total).toBe(3);
    const cancel = await runMediaforge(['jobs', 'cancel', taskId, '--json'], { env });
    expect(JSON.parse(cancel.stdout)).toEqual({ taskId, cancelled: true });
    const status = JSON.parse((await runMediaforge(['jobs', 'status', taskId, '--json'], { env })).stdout);
    expect(status).toMatchObject({ status: 'cancelled', progress: { cancelled: 3, total: 3 } });

    const again = await runMediaforge(['generate', 'auto', '--background', '--json'], { env });
    const second = JSON.parse(again.stdout).taskId;
    expect((await runMediaforge(['worker', '--until-idle'], { env })).code).toBe(0);
    const done = JSON.parse((await runMediaforge(['jobs', 'status', second, '--json'], { env })).stdout);
    expect(done).toMatchObject({ status: 'succeeded', successful: true, progress: { succeeded: 3 } });

    const unknown = await runMediaforge(['jobs', 'status', crypto.randomUUID()], { env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('TASK_NOT_FOUND');
    const refused = await runMediaforge(['ingest', '--background', 'http://127.0.0.1/x.png'], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('URL_NOT_ALLOWED');
    const noUpdate = await runMediaforge(['generate', 'auto', '--background', '--no-update'], { env });
    expect(noUpdate.code).toBe(2);
  }, 60_000);

  test('status --items lists every item, past the pages a byte budget cuts short', async () => {
    // 200 URLs of 8 KiB: 1.6 MB of payloads, more than one page of items.
    const urls = Array.from({ length: 200 }, (_, n) => `https://media.example/${n}/${'p'.repeat(8000)}`);
    const list = join(tempDir(), 'urls.txt');
    await Bun.write(list, urls.join('\n'));
    const queued = await runMediaforge(['ingest', '--background', '--from-file', list], { env });
    expect(queued.code).toBe(0);
    const taskId = queued.stdout.trim();
    const json = await runMediaforge(['jobs', 'status', taskId, '--items', '--json'], { env });
    const seqs = (JSON.parse(json.stdout).items as { seq: number }[]).map((item) => item.seq);
    expect(seqs).toEqual(urls.map((_, n) => n));
    const text = await runMediaforge(['jobs', 'status', taskId, '--items'], { env });
    // A page at a time: every item once, in order, under one header.
    const rows = text.stdout.split('\n').filter((line) => /^\d+ +queued/.test(line));
    expect(rows.map((line) => Number(line.split(' ')[0]))).toEqual(urls.map((_, n) => n));
    expect(text.stdout.match(/^SEQ /gm)).toHaveLength(1);
  }, 60_000);
});

describe.skipIf(skipPostgres)('mediaforge jobs prune (PostgreSQL)', () => {
  let pg: TestPostgres;
  afterAll(async () => {
    await pg?.drop();
  });

  test('it removes objects no record refers to (a crashed store), and keeps every referenced one', async () => {
    pg = await createTestPostgres();
    const home = join(tempDir(), 'home');
    const env = { DATABASE_URL: pg.url, MEDIAFORGE_HOME: home };
    expect((await runMediaforge(['migrate'], { env })).code).toBe(0);
    const stored = await runMediaforge(['ingest', '--json', '--allow-private', at('fixture.txt')], { env });
    expect(stored.code).toBe(0);
    const key = JSON.parse(stored.stdout).processedFiles[0].storageKey as string;
    // What a process killed between its store write and its record leaves: a reserved key, bytes, no reference.
    const orphan = 'text/01a20000-0000-7000-8000-000000000000.txt';
    await Bun.write(join(home, 'objects', orphan), 'bytes nobody recorded');
    const database = await openDatabase({ url: pg.url });
    try {
      const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
      await database.db
        .insert(objects)
        .values({ key: orphan, sha256: '0'.repeat(64), size: 21, contentType: 'text/plain', createdAt: twoDaysAgo });
      // What a process killed mid-write leaves: the driver's temporary file beside the object it was writing. An old
      // one is removed, a fresh one (a write that may still be running) is kept.
      const staleTemp = join(home, 'objects', 'text', '.0123456789ab.tmp');
      const freshTemp = join(home, 'objects', 'text', '.ba9876543210.tmp');
      await Bun.write(staleTemp, 'half of an object');
      await Bun.write(freshTemp, 'being written');
      utimesSync(staleTemp, twoDaysAgo, twoDaysAgo);
      const pruned = await runMediaforge(['jobs', 'prune', '--json'], { env });
      expect(pruned.code).toBe(0);
      expect(JSON.parse(pruned.stdout)).toMatchObject({ sweptObjects: 1, tempFiles: 1 });
      expect([existsSync(staleTemp), existsSync(freshTemp)]).toEqual([false, true]);
      expect(await Bun.file(join(home, 'objects', orphan)).exists()).toBe(false);
      expect(await Bun.file(join(home, 'objects', key)).exists()).toBe(true);
      const [row] = await database.db.select().from(objects).where(eq(objects.key, orphan));
      expect(row?.state).toBe('deleted');
    } finally {
      await database.close();
    }
  }, 60_000);
});

describe.skipIf(skipPostgres)('mediaforge jobs watch with a separate worker process (PostgreSQL)', () => {
  let pg: TestPostgres;
  afterAll(async () => {
    await pg?.drop();
  });

  test('watch follows progress to 100% while a worker in another process runs the task', async () => {
    pg = await createTestPostgres();
    const env = { DATABASE_URL: pg.url, MEDIAFORGE_HOME: join(tempDir(), 'home') };
    expect((await runMediaforge(['migrate'], { env })).code).toBe(0);
    const urls = Array.from({ length: 12 }, (_, n) => at(`fixture.txt?delay=150&n=${n}`));
    const queued = await runMediaforge(['ingest', '--background', '--allow-private', ...urls], { env });
    const taskId = queued.stdout.trim();
    const worker = Bun.spawn([process.execPath, CLI_MAIN, 'worker', '--concurrency', '3'], {
      env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
      stdout: 'ignore',
      stderr: 'ignore',
    });
    try {
      const watch = await runMediaforge(['jobs', 'watch', taskId, '--interval', '100'], { env });
      expect(watch.code).toBe(0);
      const lines = watch.stderr.split('\n').filter((line) => line.startsWith(`task ${taskId.slice(0, 8)}:`));
      expect(lines.at(-1)).toContain('12/12');
      expect(watch.stderr).toContain('task succeeded');
      const workers = JSON.parse((await runMediaforge(['workers', '--json'], { env })).stdout);
      expect(workers.workers).toHaveLength(1);
      expect(workers.workers[0]).toMatchObject({ state: 'online', pid: worker.pid });
    } finally {
      worker.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
    }
  }, 60_000);
});
