/** Reading a response body with an idle (stall) timeout; a close before the end is an interrupted download. */
import type { IncomingMessage } from 'node:http';
import { FileProcessingError } from '../errors.ts';
import { DownloadError, networkError } from './download-errors.ts';

export async function* withIdleTimeout(
  response: IncomingMessage,
  idleMs: number,
  url: string,
  attempts: () => number,
): AsyncGenerator<Uint8Array> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(
      () =>
        response.destroy(
          new DownloadError('DOWNLOAD_TIMEOUT', `No data for ${idleMs} ms`, url, attempts(), undefined, {
            transient: true,
          }),
        ),
      idleMs,
    );
  };
  arm();
  try {
    for await (const chunk of response) {
      arm();
      yield chunk instanceof Uint8Array ? chunk : new Uint8Array(chunk as ArrayBuffer);
    }
    if (!response.complete) {
      throw new DownloadError('DOWNLOAD_INTERRUPTED', 'Connection closed mid-body', url, attempts(), undefined, {
        transient: true,
      });
    }
  } catch (error) {
    if (error instanceof FileProcessingError) throw error;
    throw networkError(error as NodeJS.ErrnoException, url, attempts(), 'DOWNLOAD_INTERRUPTED');
  } finally {
    clearTimeout(timer);
  }
}
