import { expect, test } from 'bun:test';
import { claimItems, createLogger, type Db, TaskQueue, tasks } from '@mediaforge/core';
import { describeBackends } from '@mediaforge/core/testing';
import { OutcomeBuffer } from './outcome-buffer.ts';

describeBackends('outcome buffer', (backend) => {
  test('outcomes added in one turn of the event loop are written in one statement', async () => {
    const { db } = backend.database();
    await db.delete(tasks);
    await new TaskQueue(backend.database()).enqueue({ kind: 'noop', payloads: [{}, {}, {}, {}, {}] });
    const claimed = await claimItems(db, { workerId: 'w', queues: ['default'], limit: 5, leaseMs: 30_000 });
    expect(claimed).toHaveLength(5);
    // The real database, with its statements counted on the way (drizzle's, and postgres.js's prepared ones).
    let statements = 0;
    const counting = <T extends object>(target: T, method: string): T =>
      new Proxy(target, {
        get(inner, key, receiver) {
          const value = Reflect.get(inner, key, receiver);
          if (key === method && typeof value === 'function') {
            return (...args: unknown[]) => {
              statements += 1;
              return value.apply(inner, args);
            };
          }
          return key === '$client' && value ? counting(value as object, 'unsafe') : value;
        },
      });
    const counted = counting(db, 'execute') as Db;
    const written: number[] = [];
    const buffer = new OutcomeBuffer({
      db: counted,
      workerId: 'w',
      logger: createLogger({ level: 'silent' }),
      onWritten: (outcome, accepted) => accepted && written.push(outcome.id),
      onTaskFinished: () => {},
    });
    for (const item of claimed) buffer.add({ id: item.id, status: 'succeeded' });
    await Bun.sleep(0);
    await buffer.flush();
    expect(written.sort()).toEqual(claimed.map((item) => item.id).sort());
    expect(statements).toBe(1);
  });
});
