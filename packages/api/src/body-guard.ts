/** Request bodies that stop sending, or send past the server's ceiling, end with a typed error instead of a hang. */
import { ApiError } from './errors.ts';

export interface BodyGuardOptions {
  /** Longest wait for the next chunk while the app is waiting for one (time the app spends elsewhere is not counted). */
  idleMs: number;
  /** Bytes past which the body is refused with a 413. */
  maxBytes: number;
  /**
   * Fewest bytes a second of waiting for the client, measured over each `idleMs` of waiting (408 below it); 0 or
   * unset = no minimum. Time the app spends with a chunk is not counted.
   */
  minBytesPerSecond?: number;
  /** Longest time for the whole body, however it trickles (bodies read before any key is verified). */
  deadlineMs?: number;
  /** Told the guard's own error when it ends the body (a library reading it may answer with something vaguer). */
  onFail?: (error: ApiError) => void;
}

/**
 * The body as a stream that errors with a 408 when the client stops sending for `idleMs` or sends slower than
 * `minBytesPerSecond` over `idleMs` of waiting, and with a 413 past `maxBytes` (counted as chunks arrive, whatever
 * Content-Length claimed). A long upload that keeps sending at the minimum rate is never cut off; only a gap or a
 * trickle is.
 *
 * One timer per stream, not one per chunk: a 1 GiB upload arrives in ~16,000 chunks, and a timer, a promise and a
 * race for each of them cost more CPU than the check itself. The timer, when it fires, measures the wait of the
 * read in flight (if any) and re-arms itself for what is left.
 */
export function guardBody(
  body: ReadableStream<Uint8Array>,
  { idleMs, maxBytes, deadlineMs, minBytesPerSecond = 0, onFail }: BodyGuardOptions,
) {
  const reader = body.getReader();
  let received = 0;
  /** The minimum rate's window: time spent waiting for the client, and the bytes it sent meanwhile. */
  let windowWaited = 0;
  let windowBytes = 0;
  const deadline = deadlineMs === undefined ? Number.POSITIVE_INFINITY : performance.now() + deadlineMs;
  /** When the read in flight started; undefined while the app is not waiting for a chunk. */
  let waitingSince: number | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let failed: ApiError | undefined;
  let controller!: ReadableStreamDefaultController<Uint8Array>;

  const disarm = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
  };
  const fail = (error: ApiError) => {
    if (failed) return;
    failed = error;
    if (error instanceof ApiError) onFail?.(error);
    disarm();
    controller.error(error);
    reader.cancel(error).catch(() => {});
  };
  const check = () => {
    timer = undefined;
    if (waitingSince === undefined || failed) return;
    const now = performance.now();
    if (now >= deadline) {
      return fail(
        new ApiError(408, 'REQUEST_TIMEOUT', `The request body took longer than ${deadlineMs} ms.`, { deadlineMs }),
      );
    }
    if (now - waitingSince >= idleMs) {
      return fail(
        new ApiError(408, 'REQUEST_TIMEOUT', `The request body sent nothing for ${idleMs / 1000} seconds.`, {
          idleSeconds: idleMs / 1000,
        }),
      );
    }
    arm(now);
  };
  const arm = (now: number) => {
    timer = setTimeout(check, Math.max(0, Math.min((waitingSince ?? now) + idleMs, deadline) - now));
  };

  return new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    async pull() {
      if (failed) return;
      const now = performance.now();
      waitingSince = now;
      if (timer === undefined) arm(now);
      try {
        const { done, value } = await reader.read();
        windowWaited += performance.now() - now;
        waitingSince = undefined;
        if (failed) return;
        if (done) {
          disarm();
          return controller.close();
        }
        received += value.byteLength;
        windowBytes += value.byteLength;
        if (windowWaited >= idleMs) {
          if (windowBytes < (minBytesPerSecond * windowWaited) / 1000) {
            const seconds = Math.round(windowWaited / 1000);
            return fail(
              new ApiError(
                408,
                'REQUEST_TIMEOUT',
                `The request body sent ${windowBytes} bytes in ${seconds} seconds, slower than the minimum of ${minBytesPerSecond} bytes a second.`,
                { minBytesPerSecond },
              ),
            );
          }
          windowWaited = 0;
          windowBytes = 0;
        }
        if (received > maxBytes) {
          return fail(
            new ApiError(413, 'PAYLOAD_TOO_LARGE', `Request bodies are limited to ${maxBytes} bytes.`, {
              limitBytes: maxBytes,
            }),
          );
        }
        controller.enqueue(value);
      } catch (error) {
        waitingSince = undefined;
        fail(error as ApiError);
      }
    },
    cancel(reason) {
      disarm();
      return reader.cancel(reason);
    },
  });
}
