/** Reading a response body with an idle (stall) timeout and a minimum rate; a failure mid-body is an interrupted download. */
import { DownloadError } from './download-errors.ts';
import { type Hop, hopFailure } from './download-request.ts';

export interface BodyLimits {
  /** Longest wait for one chunk. */
  idleMs: number;
  /** Fewest bytes a second of waiting, measured over each `idleMs` of waiting; 0 = no minimum. */
  minBytesPerSecond: number;
}

/**
 * The body's chunks. The request is ended with a transient DOWNLOAD_TIMEOUT when a read waits `idleMs` for the
 * server, or when over `idleMs` of waiting the server sent fewer than `minBytesPerSecond` a second: a server that
 * trickles a byte every few seconds stays under any idle limit, and would otherwise hold the download (and the
 * worker's slot) until the task's own timeout. Only the wait for the server counts: time the caller spends with a
 * chunk (its disk, a full storing queue) is not the server's stall, and the socket holds what arrives meanwhile.
 *
 * One timer per body, not one per chunk (a 256 MiB file arrives in ~4,000 chunks): the timer, when it fires,
 * measures the wait of the read in flight (if any) and sets itself again for what is left, as the API's body guard
 * does. The rate is checked as each chunk arrives.
 */
export async function* withIdleTimeout(
  hop: Hop,
  { idleMs, minBytesPerSecond }: BodyLimits,
  url: string,
  attempts: () => number,
): AsyncGenerator<Uint8Array> {
  const body = hop.response.body;
  if (!body) return hop.done();
  const reader = body.getReader();
  /** When the read in flight started; undefined while the caller has the last chunk. */
  let waitingSince: number | undefined;
  /** The rate's window: time spent waiting for the server, and the bytes it brought. */
  let windowWaited = 0;
  let windowBytes = 0;
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
      windowWaited += performance.now() - waitingSince;
      waitingSince = undefined;
      if (read.done) return hop.done();
      windowBytes += read.value.byteLength;
      if (windowWaited >= idleMs) {
        if (windowBytes < (minBytesPerSecond * windowWaited) / 1000) {
          const seconds = Math.round(windowWaited / 1000);
          const error = new DownloadError(
            'DOWNLOAD_TIMEOUT',
            `The server sent ${windowBytes} bytes in ${seconds} s, slower than the minimum of ${minBytesPerSecond} bytes a second`,
            url,
            attempts(),
            undefined,
            { transient: true },
          );
          hop.cancel(error);
          throw error;
        }
        windowWaited = 0;
        windowBytes = 0;
      }
      yield read.value;
    }
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
}
