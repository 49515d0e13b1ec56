/** synthesize: real, decodable sample media for a record, deterministic for a seed. */
import type { MediaType } from '../../db/schema.ts';
import { FileProcessingError } from '../../errors.ts';
import { imageDecodes } from '../decode-budget.ts';
import { streamOfBytes } from '../peek.ts';
import { DEFAULT_TYPE_FOR, type SupportedType, supportedTypeForExtension, supportedTypeForMime } from '../supported.ts';
import { synthesizeMp3, synthesizeWav } from './audio.ts';
import { MAX_SYNTH_IMAGE_PIXELS, maxSynthImageBytes, synthesizeImage } from './image.ts';
import { seedOf } from './prng.ts';
import { synthesizeText } from './text.ts';
import { synthesizeVideo } from './video.ts';

/** Formats each media kind can be synthesized in (MIME types). */
export const SYNTHESIS_FORMATS: Record<MediaType, readonly string[]> = {
  text: ['text/plain'],
  image: ['image/jpeg', 'image/png'],
  audio: ['audio/mpeg', 'audio/wav'],
  video: ['video/mp4'],
};

export const MIN_SYNTH_BYTES = 1024;

export interface SynthesizeOptions {
  mediaType: MediaType;
  /** Target size: exact for text, MP3 and MP4, to the even byte for WAV, within 10% for images. */
  sizeBytes: number;
  /** Same seed, same bytes. Defaults to a fixed seed. */
  seed?: string | number;
  /** MIME type or extension; defaults to JPEG, MP3, MP4 and plain text. */
  format?: string;
  /** Whose work this is: images are encoded in the shared image slots, served round-robin by owner. */
  owner?: string;
}

export interface Synthesized {
  contentType: string;
  extension: string;
  mediaType: MediaType;
  /** The file; text, audio and video are generated chunk by chunk as it is read. */
  stream: ReadableStream<Uint8Array>;
}

/**
 * @example const { stream, extension } = await synthesize({ mediaType: 'audio', sizeBytes: 15 * 1024, seed: uid });
 */
export async function synthesize({
  mediaType,
  sizeBytes,
  seed,
  format,
  owner,
}: SynthesizeOptions): Promise<Synthesized> {
  const type = resolveFormat(mediaType, format);
  if (!Number.isFinite(sizeBytes) || sizeBytes < MIN_SYNTH_BYTES) {
    throw new FileProcessingError(
      `Synthesis size must be at least ${MIN_SYNTH_BYTES} bytes (got ${sizeBytes}).`,
      'INVALID_SIZE',
    );
  }
  const size = Math.floor(sizeBytes);
  const numericSeed = seedOf(seed);
  const result = (stream: ReadableStream<Uint8Array>): Synthesized => ({
    contentType: type.mime,
    extension: type.extension,
    mediaType,
    stream,
  });
  switch (type.mime) {
    case 'text/plain':
      return result(synthesizeText(size, numericSeed));
    case 'audio/mpeg':
      return result(synthesizeMp3(size, numericSeed));
    case 'audio/wav':
      return result(synthesizeWav(size, numericSeed));
    case 'image/jpeg':
    case 'image/png': {
      const imageFormat = type.mime === 'image/png' ? 'png' : 'jpeg';
      const largest = maxSynthImageBytes(imageFormat);
      if (size > largest) {
        throw new FileProcessingError(
          `Synthesized ${type.extension.toUpperCase()} images go up to ${largest} bytes ` +
            `(${MAX_SYNTH_IMAGE_PIXELS / 1_000_000} megapixels); asked for ${size}. Ask for a smaller size` +
            (imageFormat === 'jpeg' ? ' or PNG.' : '.'),
          'INVALID_SIZE',
          { details: { sizeBytes: size, maxSizeBytes: largest, format: type.mime } },
        );
      }
      const bytes = await imageDecodes.run(() => synthesizeImage(size, numericSeed, imageFormat), owner);
      return result(streamOfBytes(bytes));
    }
    default:
      return result(await synthesizeVideo(size, numericSeed));
  }
}

function resolveFormat(mediaType: MediaType, format: string | undefined): SupportedType {
  const wanted = format ?? DEFAULT_TYPE_FOR[mediaType];
  const type = supportedTypeForMime(wanted) ?? supportedTypeForExtension(wanted);
  if (!type || !SYNTHESIS_FORMATS[mediaType].includes(type.mime)) {
    throw new FileProcessingError(
      `Cannot synthesize ${mediaType} as ${wanted}; choose one of ${SYNTHESIS_FORMATS[mediaType].join(', ')}.`,
      'UNSUPPORTED_SYNTHESIS_FORMAT',
    );
  }
  return type;
}
