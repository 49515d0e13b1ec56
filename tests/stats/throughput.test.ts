// Throughput and records-over-time charts' data, on PGlite and PostgreSQL: buckets, bytes, scope, bounds.
import { expect, test } from 'bun:test';
import {
  ALL_USERS,
  itemThroughput,
  newUid,
  records,
  recordsOverTime,
  taskItems,
  tasks,
  timeWindow,
  userScope,
} from '@mediaforge/core';
import { describeBackends } from '@mediaforge/core/testing';

const NOW = new Date('2026-03-01T12:33:30Z');
const minutesAgo = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000);

describeBackends('throughput over time', (backend) => {
  const db = () => backend.database().db;

  /** A task of `userId` whose items finished at the given minutes ago, on `worker`, each storing `size` bytes. */
  async function seedTask(userId: string, worker: string, finished: number[], size = 1000) {
    const id = newUid();
    await db()
      .insert(tasks)
      .values({ id, kind: 'ingest', userId, total: finished.length, status: 'succeeded', finishedAt: NOW });
    await db()
      .insert(taskItems)
      .values(
        finished.map((minutes, seq) => ({
          taskId: id,
          seq,
          payload: {},
          status: 'succeeded' as const,
          lockedBy: worker,
          result: { size },
          startedAt: minutesAgo(minutes + 0.1),
          finishedAt: minutesAgo(minutes),
        })),
      );
    return id;
  }

  test('items and bytes per task land in their minute; other users and old items stay out', async () => {
    const window = timeWindow('1h', NOW);
    const mine = await seedTask('alice', 'w-1', [0, 0, 1, 59, 90], 2048);
    const theirs = await seedTask('bob', 'w-2', [0, 5]);
    const byTask = await itemThroughput(db(), { by: 'task', window, scope: userScope('alice') });
    expect(byTask.map((s) => s.key)).toEqual([mine]);
    const points = byTask[0]?.points ?? [];
    expect(points).toHaveLength(60);
    // The last bucket holds NOW; 90 minutes ago is outside the hour.
    expect(points[59]).toEqual({ items: 2, bytes: 4096 });
    expect(points[58]).toEqual({ items: 1, bytes: 2048 });
    expect(points.reduce((sum, p) => sum + p.items, 0)).toBe(4);

    const all = await itemThroughput(db(), { by: 'task', window, scope: ALL_USERS });
    expect(all.map((s) => s.key).sort()).toEqual([mine, theirs].sort());
    const oneTask = await itemThroughput(db(), { by: 'task', window, scope: ALL_USERS, taskId: theirs });
    expect(oneTask.map((s) => s.key)).toEqual([theirs]);

    const byWorker = await itemThroughput(db(), { by: 'worker', window, scope: ALL_USERS });
    expect(byWorker.map((s) => s.key).sort()).toEqual(['w-1', 'w-2']);
    expect(await itemThroughput(db(), { by: 'worker', window, scope: ALL_USERS, limit: 1 })).toHaveLength(1);
  });

  test('records by media type, all four types in order, scoped to the owner', async () => {
    const window = timeWindow('6h', NOW);
    await db()
      .insert(records)
      .values([
        { uid: newUid(), mediaType: 'image', userId: 'carol', fileSize: 10, createdAt: minutesAgo(1) },
        { uid: newUid(), mediaType: 'image', userId: 'carol', createdAt: minutesAgo(2) },
        { uid: newUid(), mediaType: 'audio', userId: 'carol', createdAt: minutesAgo(200) },
        { uid: newUid(), mediaType: 'audio', userId: 'dave', createdAt: minutesAgo(1) },
        { uid: newUid(), mediaType: 'text', userId: 'carol', createdAt: minutesAgo(600) },
      ]);
    const series = await recordsOverTime(db(), window, userScope('carol'));
    expect(series.map((s) => s.key)).toEqual(['text', 'audio', 'video', 'image']);
    const total = (key: string) => series.find((s) => s.key === key)?.points.reduce((sum, p) => sum + p.items, 0);
    expect([total('text'), total('audio'), total('video'), total('image')]).toEqual([0, 1, 0, 2]);
    // Five-minute buckets: both images sit in the last one, with the one file's bytes.
    expect(series.find((s) => s.key === 'image')?.points.at(-1)).toEqual({ items: 2, bytes: 10 });
  });
});
