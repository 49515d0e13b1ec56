/** Request bodies that stop sending, or send past the server's ceiling, end with a typed error instead of a hang. */
import { ApiError } from './errors.ts';

export interface BodyGuardOptions {
  /** Longest wait for the next chunk while the app is waiting for one (time the app spends elsewhere is not counted). */
  idleMs: number;
  /** Bytes past which the body is refused with a 413. */
  maxBytes: number;
  /** Longest time for the whole body, however it trickles (bodies read before any key is verified). */
  deadlineMs?: number;
}

/**
 * The body as a stream that errors with a 408 when the client stops sending for `idleMs`, and with a 413 past
 * `maxBytes`. A long upload that keeps sending is never cut off; only a gap is.
 */
export function guardBody(body: ReadableStream<Uint8Array>, { idleMs, maxBytes, deadlineMs }: BodyGuardOptions) {
  const reader = body.getReader();
  let received = 0;
  const deadline = deadlineMs === undefined ? Number.POSITIVE_INFINITY : performance.now() + deadlineMs;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const left = deadline - performance.now();
      const stalled = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              left < idleMs
                ? new ApiError(408, 'REQUEST_TIMEOUT', `The request body took longer than ${deadlineMs} ms.`, {
                    deadlineMs,
                  })
                : new ApiError(408, 'REQUEST_TIMEOUT', `The request body sent nothing for ${idleMs / 1000} seconds.`, {
                    idleSeconds: idleMs / 1000,
                  }),
            ),
          Math.max(0, Math.min(idleMs, left)),
        );
      });
      try {
        const { done, value } = await Promise.race([reader.read(), stalled]);
        if (done) return controller.close();
        received += value.byteLength;
        if (received > maxBytes) {
          throw new ApiError(413, 'PAYLOAD_TOO_LARGE', `Request bodies are limited to ${maxBytes} bytes.`, {
            limitBytes: maxBytes,
          });
        }
        controller.enqueue(value);
      } catch (error) {
        await reader.cancel(error).catch(() => {});
        controller.error(error);
      } finally {
        clearTimeout(timer);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}
