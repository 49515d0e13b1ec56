/** Reading a response body with an idle (stall) timeout; a failure mid-body is an interrupted download. */
import { DownloadError } from './download-errors.ts';
import { type Hop, hopFailure } from './download-request.ts';

export async function* withIdleTimeout(
  hop: Hop,
  idleMs: number,
  url: string,
  attempts: () => number,
): AsyncGenerator<Uint8Array> {
  const body = hop.response.body;
  if (!body) return hop.done();
  const reader = body.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(
      () =>
        hop.cancel(
          new DownloadError('DOWNLOAD_TIMEOUT', `No data for ${idleMs} ms`, url, attempts(), undefined, {
            transient: true,
          }),
        ),
      idleMs,
    );
  };
  arm();
  try {
    for (;;) {
      let read: Awaited<ReturnType<typeof reader.read>>;
      try {
        read = await reader.read();
      } catch (error) {
        // A read that failed without a typed reason lost the connection mid-body.
        throw hopFailure(hop.ended, error, url, attempts(), 'DOWNLOAD_INTERRUPTED');
      }
      if (read.done) return hop.done();
      arm();
      yield read.value;
    }
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
}
