/** Detects a file's type from its content alone; names, URLs and declared types are only compared, never trusted. */
import { fileTypeFromBuffer } from 'file-type';
import type { MediaType } from '../db/schema.ts';
import { FileTypeNotSupportedError } from '../errors.ts';
import { peekStream } from './peek.ts';
import { type SupportedType, supportedTypeForExtension, supportedTypeForMime } from './supported.ts';
import { checkUtf8Text } from './text.ts';

/** Bytes read to decide: enough for every container signature file-type knows and a fair text sample. */
export const DETECTION_BYTES = 64 * 1024;

export interface DetectOptions {
  /** Where the bytes came from; its extension is compared with the content. */
  url?: string;
  /** The Content-Type a server or client claimed. */
  declaredType?: string;
}

export interface Detection {
  /** Canonical MIME of the detected type, or what was found (e.g. `application/pdf`), or `application/octet-stream`. */
  contentType: string;
  /** Extension with dot for supported types (`.jpg`), the detector's for others, `''` when unknown. */
  extension: string;
  mediaType: MediaType | null;
  /** True when the detected type is one mediaforge accepts. */
  isValid: boolean;
  /** What disagreed with the content: the URL's extension and/or the declared type. */
  mismatch?: { url?: string; declaredType?: string };
  /** The table entry, for supported types. */
  type?: SupportedType;
}

/** Detects from bytes, or from a stream, in which case the stream returned in its place still holds every byte. */
export async function detectFileType(input: Uint8Array, options?: DetectOptions): Promise<Detection>;
export async function detectFileType(
  input: ReadableStream<Uint8Array>,
  options?: DetectOptions,
): Promise<Detection & { stream: ReadableStream<Uint8Array> }>;
export async function detectFileType(
  input: Uint8Array | ReadableStream<Uint8Array>,
  options: DetectOptions = {},
): Promise<Detection & { stream?: ReadableStream<Uint8Array> }> {
  if (input instanceof Uint8Array) return detectBytes(input, input.byteLength <= DETECTION_BYTES, options);
  const { head, stream, ended } = await peekStream(input, DETECTION_BYTES);
  return { ...(await detectBytes(head, ended, options)), stream };
}

/** Like detectFileType, but throws FileTypeNotSupportedError for anything mediaforge does not accept. */
export async function requireSupportedType(
  input: Uint8Array,
  options?: DetectOptions,
): Promise<Detection & { type: SupportedType }> {
  const detection = await detectFileType(input, options);
  return assertSupported(detection);
}

export function assertSupported<T extends Detection>(detection: T): T & { type: SupportedType } {
  if (!detection.isValid || !detection.type) {
    throw new FileTypeNotSupportedError(
      detection.contentType,
      'Accepted: images (JPEG, PNG, WebP, GIF, AVIF), audio (MP3, WAV, Ogg, Opus, FLAC, M4A, AAC), video (MP4, WebM, MOV) and UTF-8 text.',
    );
  }
  return detection as T & { type: SupportedType };
}

async function detectBytes(head: Uint8Array, complete: boolean, options: DetectOptions): Promise<Detection> {
  const found = head.byteLength === 0 ? undefined : await fileTypeFromBuffer(head);
  let detection: Detection;
  if (found) {
    const type = supportedTypeForMime(found.mime) ?? supportedTypeForExtension(found.ext);
    detection = type
      ? { contentType: type.mime, extension: type.extension, mediaType: type.mediaType, isValid: true, type }
      : { contentType: found.mime, extension: `.${found.ext}`, mediaType: null, isValid: false };
  } else if (head.byteLength > 0 && checkUtf8Text(head, { partial: !complete }).ok) {
    const type = supportedTypeForMime('text/plain') as SupportedType;
    detection = { contentType: type.mime, extension: type.extension, mediaType: 'text', isValid: true, type };
  } else {
    detection = {
      contentType: head.byteLength === 0 ? 'application/x-empty' : 'application/octet-stream',
      extension: '',
      mediaType: null,
      isValid: false,
    };
  }
  const mismatch = findMismatch(detection, options);
  return mismatch ? { ...detection, mismatch } : detection;
}

function findMismatch(detection: Detection, { url, declaredType }: DetectOptions): Detection['mismatch'] {
  const mismatch: NonNullable<Detection['mismatch']> = {};
  const urlExtension = url ? extensionOf(url) : undefined;
  if (urlExtension) {
    const claimed = supportedTypeForExtension(urlExtension);
    if (claimed ? claimed.mime !== detection.contentType : urlExtension !== detection.extension) {
      mismatch.url = `URL says ${urlExtension}, content is ${detection.contentType}`;
    }
  }
  if (declaredType && !/^application\/octet-stream|^binary\//i.test(declaredType)) {
    const claimed = supportedTypeForMime(declaredType);
    if ((claimed?.mime ?? declaredType.split(';')[0]?.trim().toLowerCase()) !== detection.contentType) {
      mismatch.declaredType = `declared ${declaredType}, content is ${detection.contentType}`;
    }
  }
  return Object.keys(mismatch).length > 0 ? mismatch : undefined;
}

function extensionOf(url: string): string | undefined {
  let path = url;
  try {
    path = new URL(url).pathname;
  } catch {
    // Not a URL: treat it as a file name.
  }
  const match = /\.([a-z0-9]{1,5})$/i.exec(path);
  return match ? `.${match[1]?.toLowerCase()}` : undefined;
}
