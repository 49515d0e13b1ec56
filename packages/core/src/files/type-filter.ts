/**
 * A request's own type filter (`allowedTypes`): media kinds (`image`), MIME types (`image/png`, any alias) or
 * wildcards (`audio/*`). It can only narrow the global table of supported types; a file outside it is refused with
 * FILE_TYPE_NOT_ALLOWED right after detection, before anything is spooled, stored or recorded.
 */
import { MEDIA_TYPES, type MediaType } from '../db/schema.ts';
import { FileProcessingError } from '../errors.ts';
import { SUPPORTED_TYPES, type SupportedType, supportedTypeForMime } from '../media/supported.ts';

export const MAX_ALLOWED_TYPES = 32;

/** The canonical MIME types a filter lets through (a set, so checking a file is one lookup). */
export type AllowedTypes = ReadonlySet<string>;

/**
 * @example parseAllowedTypes(['image', 'audio/mpeg']) // every image type, and MP3
 * @throws VALIDATION_ERROR naming the entry that is not a media kind, a supported MIME type or `kind/*`
 */
export function parseAllowedTypes(entries: readonly string[]): AllowedTypes {
  if (entries.length === 0 || entries.length > MAX_ALLOWED_TYPES) {
    throw invalid(`allowedTypes needs 1 to ${MAX_ALLOWED_TYPES} entries (got ${entries.length}).`, entries.length);
  }
  const allowed = new Set<string>();
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase();
    const kind = (entry.endsWith('/*') ? entry.slice(0, -2) : entry) as MediaType;
    const types: readonly SupportedType[] = MEDIA_TYPES.includes(kind)
      ? SUPPORTED_TYPES.filter((type) => type.mediaType === kind)
      : [supportedTypeForMime(entry)].filter((type): type is SupportedType => type !== undefined);
    if (entry.length > 100 || types.length === 0) {
      throw invalid(
        `allowedTypes entry "${raw.slice(0, 100)}" is neither a media type (${MEDIA_TYPES.join(', ')}), "<type>/*", nor a supported MIME type.`,
        raw.slice(0, 100),
      );
    }
    for (const type of types) allowed.add(type.mime);
  }
  return allowed;
}

/** @throws FILE_TYPE_NOT_ALLOWED when `type` is outside `allowed` */
export function checkAllowedType(type: SupportedType, allowed: AllowedTypes | undefined): void {
  if (!allowed || allowed.has(type.mime)) return;
  throw new FileProcessingError(
    `The file is ${type.mime}, which this request's allowedTypes (${[...allowed].join(', ')}) leaves out; nothing was stored.`,
    'FILE_TYPE_NOT_ALLOWED',
    { details: { contentType: type.mime, mediaType: type.mediaType, allowedTypes: [...allowed] } },
  );
}

function invalid(message: string, value: unknown): FileProcessingError {
  return new FileProcessingError(message, 'VALIDATION_ERROR', { details: { option: 'allowedTypes', value } });
}
