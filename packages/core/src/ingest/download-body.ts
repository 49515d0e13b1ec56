/** Reading a response body with an idle (stall) timeout; a failure mid-body is an interrupted download. */
import { DownloadError } from './download-errors.ts';
import { type Hop, hopFailure } from './download-request.ts';

/**
 * The body's chunks; the request is ended with DOWNLOAD_TIMEOUT when a read waits `idleMs` for the server. Only the
 * wait for the server counts: time the caller spends with a chunk (its disk, a full storing queue) is not the
 * server's stall, and the socket holds what arrives meanwhile.
 *
 * One timer per body, not one per chunk (a 256 MiB file arrives in ~4,000 chunks): the timer, when it fires,
 * measures the wait of the read in flight (if any) and sets itself again for what is left, as the API's body guard
 * does.
 */
export async function* withIdleTimeout(
  hop: Hop,
  idleMs: number,
  url: string,
  attempts: () => number,
): AsyncGenerator<Uint8Array> {
  const body = hop.response.body;
  if (!body) return hop.done();
  const reader = body.getReader();
  /** When the read in flight started; undefined while the caller has the last chunk. */
  let waitingSince: number | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const check = () => {
    const waited = waitingSince === undefined ? 0 : performance.now() - waitingSince;
    if (waited < idleMs) {
      timer = setTimeout(check, idleMs - waited);
      return;
    }
    timer = undefined;
    hop.cancel(
      new DownloadError('DOWNLOAD_TIMEOUT', `No data for ${idleMs} ms`, url, attempts(), undefined, {
        transient: true,
      }),
    );
  };
  timer = setTimeout(check, idleMs);
  try {
    for (;;) {
      let read: Awaited<ReturnType<typeof reader.read>>;
      waitingSince = performance.now();
      try {
        read = await reader.read();
      } catch (error) {
        // A read that failed without a typed reason lost the connection mid-body.
        throw hopFailure(hop.ended, error, url, attempts(), 'DOWNLOAD_INTERRUPTED');
      }
      waitingSince = undefined;
      if (read.done) return hop.done();
      yield read.value;
    }
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
}
