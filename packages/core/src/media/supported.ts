/** The one table of accepted file types: MIME, extension, media kind and the validator that checks it. */
import type { MediaType } from '../db/schema.ts';

export type ValidatorName = 'image' | 'mp3' | 'wav' | 'ogg' | 'flac' | 'isobmff' | 'adts' | 'webm' | 'text';

export interface SupportedType {
  /** Canonical MIME type stored on records and objects. */
  readonly mime: string;
  /** Extension (with dot) used in object keys. */
  readonly extension: string;
  readonly mediaType: MediaType;
  readonly validator: ValidatorName;
  /** Other MIME spellings (from detectors, browsers, servers) that mean this type. */
  readonly aliases: readonly string[];
  /** Other extensions a URL may carry for this type. */
  readonly extensionAliases: readonly string[];
}

const type = (
  mime: string,
  extension: string,
  mediaType: MediaType,
  validator: ValidatorName,
  aliases: string[] = [],
  extensionAliases: string[] = [],
): SupportedType => ({ mime, extension, mediaType, validator, aliases, extensionAliases });

export const SUPPORTED_TYPES: readonly SupportedType[] = [
  type('image/jpeg', '.jpg', 'image', 'image', ['image/jpg', 'image/pjpeg'], ['.jpeg', '.jpe']),
  type('image/png', '.png', 'image', 'image', ['image/x-png']),
  type('image/webp', '.webp', 'image', 'image'),
  type('image/gif', '.gif', 'image', 'image'),
  type('image/avif', '.avif', 'image', 'image'),
  type('audio/mpeg', '.mp3', 'audio', 'mp3', ['audio/mp3', 'audio/x-mp3', 'audio/mpeg3']),
  type('audio/wav', '.wav', 'audio', 'wav', ['audio/x-wav', 'audio/wave', 'audio/vnd.wave']),
  type('audio/ogg', '.ogg', 'audio', 'ogg', ['application/ogg', 'audio/vorbis'], ['.oga']),
  type('audio/opus', '.opus', 'audio', 'ogg', ['audio/ogg; codecs=opus']),
  type('audio/flac', '.flac', 'audio', 'flac', ['audio/x-flac']),
  type('audio/mp4', '.m4a', 'audio', 'isobmff', ['audio/x-m4a', 'audio/m4a']),
  type('audio/aac', '.aac', 'audio', 'adts', ['audio/x-aac', 'audio/aacp']),
  type('video/mp4', '.mp4', 'video', 'isobmff', ['application/mp4'], ['.m4v']),
  type('video/webm', '.webm', 'video', 'webm'),
  type('video/quicktime', '.mov', 'video', 'isobmff', [], ['.qt']),
  type('text/plain', '.txt', 'text', 'text', ['text/plain; charset=utf-8'], ['.text']),
];

const byMime = new Map<string, SupportedType>();
const byExtension = new Map<string, SupportedType>();
for (const entry of SUPPORTED_TYPES) {
  for (const mime of [entry.mime, ...entry.aliases]) byMime.set(mime.toLowerCase(), entry);
  for (const extension of [entry.extension, ...entry.extensionAliases]) byExtension.set(extension, entry);
}

/** The supported type a MIME string (or an alias of it) names, if any; `codecs=` refines, other parameters are ignored. */
export function supportedTypeForMime(mime: string): SupportedType | undefined {
  const [base = '', ...params] = mime
    .toLowerCase()
    .split(';')
    .map((part) => part.trim());
  const codecs = params.find((param) => param.startsWith('codecs='));
  return (codecs && byMime.get(`${base}; ${codecs}`)) || byMime.get(base);
}

/** The supported type an extension (".jpg" or "jpg") names, if any. */
export function supportedTypeForExtension(extension: string): SupportedType | undefined {
  const normalized = extension.toLowerCase();
  return byExtension.get(normalized.startsWith('.') ? normalized : `.${normalized}`);
}

/** The default type synthesized for each media kind. */
export const DEFAULT_TYPE_FOR: Record<MediaType, string> = {
  text: 'text/plain',
  audio: 'audio/mpeg',
  video: 'video/mp4',
  image: 'image/jpeg',
};
