/** validateFileIntegrity: checks that a file of a given type is whole and playable/decodable. */
import { FileTypeNotSupportedError, IntegrityError } from '../../errors.ts';
import { imageDecodes } from '../decode-budget.ts';
import { readAll } from '../peek.ts';
import { supportedTypeForMime } from '../supported.ts';
import { validateImage } from './image.ts';
import type { FormatInfo, MediaInfo } from './media-info.ts';
import { FormatProblem } from './problem.ts';
import { validationPool } from './validation-pool.ts';

export interface ValidateOptions {
  /** Pixel cap for images (decompression-bomb guard); MAX_IMAGE_PIXELS by default. */
  maxPixels?: number;
  /** Largest stream read into memory (streams are read whole; pass a Blob such as `Bun.file(path)` for big files). */
  maxStreamBytes?: number;
  /** Tightens an image decode's time budget (validateSeconds of its pixels); it is never raised. */
  maxDecodeSeconds?: number;
  /** Whose decode this is (user id or key): waiting image decodes are served round-robin by owner. */
  owner?: string;
}

/**
 * Validates integrity for `contentType`: images are fully decoded, containers walked end to end, text checked as UTF-8.
 * The work never holds the caller's event loop: walks run on worker threads (bytes of at most 64 KiB in place, under a
 * millisecond), images decode in sharp's threads, one of IMAGE_DECODE_SLOTS at a time, and both cost time linear in
 * the file's bytes (images: in pixels, capped).
 * Input may be bytes, a Blob (e.g. `Bun.file(path)`, read in windows, never whole), or a stream (read into memory:
 * prefer a Blob for large files).
 * @throws IntegrityError saying what is broken; FileTypeNotSupportedError for types mediaforge does not accept;
 *   OverloadedError (code OVERLOADED, transient, `details.retryAfterSeconds`) when validation is at capacity.
 * @example const info = await validateFileIntegrity(Bun.file('clip.mp4'), 'video/mp4'); // { durationSeconds, width, … }
 */
export async function validateFileIntegrity(
  input: Uint8Array | Blob | ReadableStream<Uint8Array>,
  contentType: string,
  options: ValidateOptions = {},
): Promise<MediaInfo> {
  const type = supportedTypeForMime(contentType);
  if (!type) throw new FileTypeNotSupportedError(contentType);
  const data = input instanceof ReadableStream ? await readAll(input, options.maxStreamBytes) : input;
  const size = data instanceof Uint8Array ? data.byteLength : data.size;
  try {
    let info: FormatInfo;
    if (type.validator === 'image') {
      const bytes = data instanceof Uint8Array ? data : new Uint8Array(await data.arrayBuffer());
      info = await imageDecodes.run(
        () => validateImage(bytes, options.maxPixels, options.maxDecodeSeconds),
        options.owner,
      );
    } else {
      if (size === 0) throw new FormatProblem('the file is empty');
      info = await validationPool.validate(type.validator, data);
    }
    return { contentType: type.mime, mediaType: type.mediaType, size, ...info };
  } catch (error) {
    if (error instanceof FormatProblem) throw new IntegrityError(type.mime, error.message);
    if (error instanceof RangeError && !(data instanceof Blob)) {
      throw new IntegrityError(type.mime, `structure points past the end of the data (${error.message})`, {
        cause: error,
      });
    }
    throw error;
  }
}
