/**
 * A batch's pacing (batch-pacing.ts): the caller's concurrency bounds the downloads, files through their download
 * store beside them, and the bodies storing files hold in memory stay within the budget.
 */
import { describe, expect, test } from 'bun:test';
import { createBatchPacing, STORING_PER_DOWNLOAD } from './batch-pacing.ts';

/** Lets every pending promise callback run. */
const settle = () => Bun.sleep(1);

describe('batch pacing', () => {
  test('only `downloads` URLs hold a download place; a file through gives its place to the next URL', async () => {
    const pacing = createBatchPacing(2);
    expect(pacing.lanes).toBe(2 * (1 + STORING_PER_DOWNLOAD));
    const first = await pacing.start();
    const second = await pacing.start();
    let thirdStarted = false;
    const third = pacing.start().then((pass) => {
      thirdStarted = true;
      return pass;
    });
    await settle();
    expect(thirdStarted).toBe(false);
    await first.downloaded(1000);
    await settle();
    expect(thirdStarted).toBe(true);
    // The first is storing now; finishing it frees no second place.
    first.done();
    first.done();
    let fourthStarted = false;
    void pacing.start().then(() => {
      fourthStarted = true;
    });
    await settle();
    expect(fourthStarted).toBe(false);
    // A URL that fails before its download ends frees its place.
    second.done();
    await settle();
    expect(fourthStarted).toBe(true);
    (await third).done();
  });

  test('storing bodies wait for the memory budget; one file always goes through', async () => {
    const pacing = createBatchPacing(4, 100);
    const a = await pacing.start();
    const b = await pacing.start();
    const c = await pacing.start();
    await a.downloaded(150);
    let bThrough = false;
    const bDone = b.downloaded(10).then(() => {
      bThrough = true;
    });
    // A spooled file holds nothing in memory: it passes whatever the budget.
    await c.downloaded(0);
    await settle();
    expect(bThrough).toBe(false);
    a.done();
    await bDone;
    expect(bThrough).toBe(true);
    b.done();
    c.done();
  });
});
