/**
 * The CLI side on the embedded database: `--notify-url` and `--idempotency-key` on `ingest --background`, a worker
 * run that delivers the signed event, `jobs webhook`, `jobs dead` and `jobs retry`.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { verifyWebhook } from '@mediaforge/core';
import { runMediaforge, tempDir } from '../support/cli.ts';
import { recoveringOrigin } from '../support/origins.ts';

const SECRET = 'cli-webhook-secret-0123';
const origin = recoveringOrigin();
const events: { type: string; status: unknown }[] = [];
const receiver = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  async fetch(request) {
    const event = verifyWebhook({
      body: await request.text(),
      signature: request.headers.get('mediaforge-signature'),
      secret: SECRET,
    });
    events.push({ type: event.type, status: event.data.status });
    return new Response('got it');
  },
});
afterAll(() => {
  origin.server.stop(true);
  receiver.stop(true);
});

describe('mediaforge jobs retry|dead|webhook and --notify-url (embedded database)', () => {
  const env = { MEDIAFORGE_HOME: join(tempDir(), 'home'), MEDIAFORGE_NOTIFY_SECRET: SECRET };
  const url = origin.url;
  const hook = `http://127.0.0.1:${receiver.port}/hook`;
  const ingest = (key: string, names: string[]) =>
    runMediaforge(
      ['ingest', '--background', '--allow-private', '--notify-url', hook, '--idempotency-key', key, ...names.map(url)],
      { env },
    );

  test('help lists the new subcommands and flags', async () => {
    const jobs = await runMediaforge(['jobs', '--help'], { env });
    for (const word of ['retry', 'dead', 'webhook']) expect(jobs.stdout).toContain(word);
    const help = await runMediaforge(['ingest', '--help'], { env });
    for (const word of ['--notify-url', '--notify-secret', '--notify-each-item', '--idempotency-key']) {
      expect(help.stdout).toContain(word);
    }
  });

  test('a failed task: told, listed as dead letters, retried, told again; keys replay and conflict', async () => {
    const queued = await ingest('cli-1', ['a.txt', 'b.txt']);
    expect(queued.code).toBe(0);
    const taskId = queued.stdout.trim();
    expect((await ingest('cli-1', ['a.txt', 'b.txt'])).stdout.trim()).toBe(taskId);
    const conflict = await ingest('cli-1', ['c.txt']);
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toContain('IDEMPOTENCY_KEY_REUSED');

    expect((await runMediaforge(['worker', '--until-idle'], { env })).code).toBe(0);
    expect(events).toEqual([{ type: 'task.finished', status: 'failed' }]);
    const dead = JSON.parse((await runMediaforge(['jobs', 'dead', '--task', taskId, '--json'], { env })).stdout);
    expect(dead.items).toHaveLength(2);
    expect(dead.items[0]).toMatchObject({ taskId, errorCode: 'DOWNLOAD_HTTP_STATUS' });

    origin.recover();
    const retried = JSON.parse(
      (await runMediaforge(['jobs', 'retry', taskId, '--failed-only', '--json'], { env })).stdout,
    );
    expect(retried).toEqual({ taskId, requeued: 2 });
    expect((await runMediaforge(['worker', '--until-idle'], { env })).code).toBe(0);
    const status = JSON.parse((await runMediaforge(['jobs', 'status', taskId, '--json'], { env })).stdout);
    expect(status.status).toBe('succeeded');
    expect(events.map((e) => e.status)).toEqual(['failed', 'succeeded']);

    const shown = await runMediaforge(['jobs', 'webhook', taskId], { env });
    expect(shown.stdout).toContain('task.finished');
    expect(shown.stdout).toContain('got it');
    const json = JSON.parse((await runMediaforge(['jobs', 'webhook', taskId, '--json'], { env })).stdout);
    expect(json.webhook.deliveries.map((d: { status: string }) => d.status)).toEqual(['succeeded', 'succeeded']);
  }, 120_000);

  test('--notify-url without --background or without a secret is a usage error', async () => {
    const inline = await runMediaforge(['ingest', '--notify-url', hook, url('a.txt')], { env });
    expect(inline.code).not.toBe(0);
    expect(inline.stderr).toContain('--background');
    const noSecret = await runMediaforge(['ingest', '--background', '--notify-url', hook, url('a.txt')], {
      env: { MEDIAFORGE_HOME: env.MEDIAFORGE_HOME },
    });
    expect(noSecret.stderr).toContain('--notify-secret');
  });
});
