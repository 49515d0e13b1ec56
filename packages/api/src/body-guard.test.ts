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
