/**
 * The `fetch` every S3 request goes through (the SDK client's `customFetch`, and the lean put's):
 * - **redirects are not followed.** A 3xx comes back as the reply it is, which is a failure; following it sent an
 *   object's bytes to another server and counted that server's 200 as stored.
 * - **a request is abandoned, not just given up on.** Until the reply's headers, the limit bounds the whole exchange:
 *   `timeoutMs`, plus a second per 64 KiB of the body it sends (its `content-length`). After them, each read of the
 *   reply must bring bytes within that limit while someone is reading, so a
 *   slow consumer of a large object is never cut, but a stalled reply is. An abandoned request is aborted (its
 *   connection closed) and fails with a `TimeoutError`, which the SDK's retries and `mapS3Error` treat as transient.
 *   The SDK's own `requestTimeout` only raced the headers and left the request open.
 */

export function timeoutError(ms: number): Error {
  return Object.assign(new Error(`no answer from S3 within ${ms} ms`), { name: 'TimeoutError' });
}

export type S3Fetch = (input: Request | string | URL, init?: RequestInit) => Promise<Response>;

export function s3Fetch(timeoutMs: number): S3Fetch {
  return async function fetchForS3(input, init) {
    const request = input instanceof Request ? input : new Request(input, init);
    const ms = timeoutMs + Math.ceil(Number(request.headers.get('content-length') ?? 0) / 65.536);
    const limit = new AbortController();
    const signal = request.signal ? AbortSignal.any([request.signal, limit.signal]) : limit.signal;
    let timer = setTimeout(() => limit.abort(timeoutError(ms)), ms);
    let response: Response;
    try {
      response = await fetch(request, { redirect: 'manual', signal });
    } catch (error) {
      clearTimeout(timer);
      throw limit.signal.aborted ? limit.signal.reason : error;
    }
    clearTimeout(timer);
    const body = response.body;
    if (!body) return response;
    const reader = body.getReader();
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        timer = setTimeout(() => limit.abort(timeoutError(ms)), ms);
        try {
          const { done, value } = await reader.read();
          if (done) controller.close();
          else controller.enqueue(value);
        } catch (error) {
          controller.error(limit.signal.aborted ? limit.signal.reason : error);
        } finally {
          clearTimeout(timer);
        }
      },
      cancel(reason) {
        clearTimeout(timer);
        return reader.cancel(reason);
      },
    });
    return new Response(stream, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}
