/** validateFileIntegrity: checks that a file of a given type is whole and playable/decodable. */
import { FileTypeNotSupportedError, IntegrityError } from '../../errors.ts';
import { readAll } from '../peek.ts';
import { supportedTypeForMime, type ValidatorName } from '../supported.ts';
import { validateFlac } from './flac.ts';
import { validateImage } from './image.ts';
import { validateIsobmff } from './isobmff.ts';
import type { FormatInfo, MediaInfo } from './media-info.ts';
import { validateAdts, validateMp3 } from './mpeg-audio.ts';
import { validateOgg } from './ogg.ts';
import { FormatProblem } from './problem.ts';
import { type ByteSource, blobSource, bytesSource } from './source.ts';
import { validateText } from './text.ts';
import { validateWav } from './wav.ts';
import { validateWebm } from './webm.ts';

export interface ValidateOptions {
  /** Pixel cap for images (decompression-bomb guard). */
  maxPixels?: number;
  /** Largest stream read into memory (streams are read whole; pass a Blob such as `Bun.file(path)` for big files). */
  maxStreamBytes?: number;
}

const CONTAINER_VALIDATORS: Record<Exclude<ValidatorName, 'image'>, (source: ByteSource) => Promise<FormatInfo>> = {
  mp3: validateMp3,
  adts: validateAdts,
  wav: validateWav,
  ogg: validateOgg,
  flac: validateFlac,
  isobmff: validateIsobmff,
  webm: validateWebm,
  text: validateText,
};

/**
 * Validates integrity for `contentType`: images are fully decoded, containers walked end to end, text checked as UTF-8.
 * Input may be bytes, a Blob (e.g. `Bun.file(path)`, read in windows, never whole), or a stream (read into memory:
 * prefer a Blob for large files).
 * @throws IntegrityError saying what is broken; FileTypeNotSupportedError for types mediaforge does not accept.
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
      info = await validateImage(bytes, options.maxPixels);
    } else {
      if (size === 0) throw new FormatProblem('the file is empty');
      const source = data instanceof Uint8Array ? bytesSource(data) : blobSource(data);
      info = await CONTAINER_VALIDATORS[type.validator](source);
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
