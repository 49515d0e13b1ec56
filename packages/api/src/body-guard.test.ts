import { expect, test } from 'bun:test';
import { guardBody } from './body-guard.ts';
import { ApiError } from './errors.ts';

const failure = (promise: Promise<unknown>) => promise.then(() => undefined).catch((error: unknown) => error);

test('a body that keeps sending passes whole, however long it takes', async () => {
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent === 5) return controller.close();
      await Bun.sleep(30);
      sent += 1;
      controller.enqueue(new Uint8Array(10));
    },
  });
  const guarded = guardBody(body, { idleMs: 100, maxBytes: 1000 });
  expect((await new Response(guarded).arrayBuffer()).byteLength).toBe(50);
});

test('a body that stops sending ends with a 408; one past the ceiling with a 413', async () => {
  const stalled = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new Uint8Array(10));
    },
  });
  const timedOut = await failure(new Response(guardBody(stalled, { idleMs: 50, maxBytes: 1000 })).arrayBuffer());
  expect(timedOut).toBeInstanceOf(ApiError);
  expect(timedOut).toMatchObject({ status: 408, code: 'REQUEST_TIMEOUT' });

  const large = new Response(new Uint8Array(5000)).body as ReadableStream<Uint8Array>;
  const tooLarge = await failure(new Response(guardBody(large, { idleMs: 1000, maxBytes: 1000 })).arrayBuffer());
  expect(tooLarge).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
});

test('with a deadline, a body that trickles without ever stalling ends with a 408 at the deadline', async () => {
  const trickle = new ReadableStream<Uint8Array>({
    async pull(controller) {
      await Bun.sleep(20);
      controller.enqueue(new Uint8Array(1));
    },
  });
  const started = performance.now();
  const outcome = await failure(
    new Response(guardBody(trickle, { idleMs: 1000, maxBytes: 1_000_000, deadlineMs: 200 })).arrayBuffer(),
  );
  expect(outcome).toMatchObject({ status: 408, code: 'REQUEST_TIMEOUT', details: { deadlineMs: 200 } });
  // Never before the deadline; and not the idle timeout (1 s) either, though no gap ever reached it.
  expect(performance.now() - started).toBeGreaterThanOrEqual(190);
});

test('a body that trickles slower than the minimum rate ends with a 408 once a window of waiting shows it', async () => {
  // 1 byte every 20 ms (50 bytes a second) for 2 s: never idle, always slow.
  const trickle = () => {
    let sent = 0;
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent === 100) return controller.close();
        await Bun.sleep(20);
        sent += 1;
        controller.enqueue(new Uint8Array(1));
      },
    });
  };
  const limits = { idleMs: 200, maxBytes: 1_000_000, minBytesPerSecond: 1000 };
  const started = performance.now();
  const outcome = await failure(new Response(guardBody(trickle(), limits)).arrayBuffer());
  expect(outcome).toMatchObject({ status: 408, code: 'REQUEST_TIMEOUT', details: { minBytesPerSecond: 1000 } });
  expect((outcome as Error).message).toContain('slower than the minimum of 1000 bytes a second');
  expect(performance.now() - started).toBeLessThan(1500);
  // Without a minimum the same body arrives whole.
  const whole = await new Response(guardBody(trickle(), { ...limits, minBytesPerSecond: 0 })).arrayBuffer();
  expect(whole.byteLength).toBe(100);
});

test('a gap is measured from the wait it belongs to, not from when the one timer was armed', async () => {
  const releases: (() => void)[] = [];
  let sent = 0;
  const source = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent === 3) return controller.close();
      await new Promise<void>((resolve) => releases.push(resolve));
      sent += 1;
      controller.enqueue(new Uint8Array(10));
    },
  });
  const reader = guardBody(source, { idleMs: 80, maxBytes: 1000 }).getReader();
  const first = reader.read();
  await Bun.sleep(5);
  releases.shift()?.();
  expect((await first).value?.byteLength).toBe(10);
  // The guard waits for chunk 2 (its timer is armed now); it comes 50 ms later, within the 80 ms.
  await Bun.sleep(50);
  releases.shift()?.();
  const arrived = performance.now();
  expect((await reader.read()).value?.byteLength).toBe(10);
  // Chunk 3 never comes: the 408 is 80 ms after the wait for it began, not 80 ms after the first wait.
  const outcome = await failure(reader.read());
  expect(outcome).toMatchObject({ status: 408, code: 'REQUEST_TIMEOUT', details: { idleSeconds: 0.08 } });
  expect(performance.now() - arrived).toBeGreaterThanOrEqual(70);
});

test('time the app spends between reads is not counted while the body has data', async () => {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < 4; i++) controller.enqueue(new Uint8Array(16 * 1024));
      controller.close();
    },
  });
  const reader = guardBody(body, { idleMs: 50, maxBytes: 1_000_000 }).getReader();
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    await Bun.sleep(120);
  }
  expect(size).toBe(64 * 1024);
});

test('the 413 counts bytes as they arrive, in many small chunks, and the source is cancelled', async () => {
  let cancelled: unknown;
  let sent = 0;
  const source = new ReadableStream<Uint8Array>({
    pull(controller) {
      sent += 100;
      controller.enqueue(new Uint8Array(100));
    },
    cancel(reason) {
      cancelled = reason;
    },
  });
  const outcome = await failure(new Response(guardBody(source, { idleMs: 1000, maxBytes: 1050 })).arrayBuffer());
  expect(outcome).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE', details: { limitBytes: 1050 } });
  expect(cancelled).toMatchObject({ status: 413 });
  expect(sent).toBeLessThanOrEqual(1100 + 100 * 2);
});

test('a source that fails passes its error on once; a cancelled guard cancels its source', async () => {
  const broken = new ReadableStream<Uint8Array>({
    pull() {
      throw new Error('connection reset');
    },
  });
  expect(await failure(new Response(guardBody(broken, { idleMs: 1000, maxBytes: 10 })).arrayBuffer())).toMatchObject({
    message: 'connection reset',
  });
  let cancelled = false;
  const idle = new ReadableStream<Uint8Array>({
    pull: () => new Promise<void>(() => {}),
    cancel() {
      cancelled = true;
    },
  });
  const guarded = guardBody(idle, { idleMs: 60_000, maxBytes: 10 });
  const reader = guarded.getReader();
  const pending = reader.read();
  await reader.cancel('client gone');
  expect((await pending).done).toBe(true);
  expect(cancelled).toBe(true);
});
