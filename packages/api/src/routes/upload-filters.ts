/**
 * An upload's own filters (`allowedTypes`, `maxSizeMb`), checked before a byte of the body is read. The size cap
 * can only be lowered: above MAX_FILE_SIZE_MB is refused for every key, since no request may raise it.
 */
import { type AllowedTypes, parseAllowedTypes } from '@mediaforge/core';
import { ApiError } from '../errors.ts';
import type { Services } from '../services.ts';

export interface UploadFilters {
  /** Bytes. */
  maxSize: number;
  allowedTypes?: AllowedTypes;
}

/** @throws ApiError 403 OPTION_NOT_ALLOWED; VALIDATION_ERROR (400) for an unknown type */
export function uploadFilters(
  services: Services,
  query: { allowedTypes?: string | undefined; maxSizeMb?: number | undefined },
): UploadFilters {
  const { maxFileSizeMb, maxFileSizeBytes } = services.settings;
  if (query.maxSizeMb !== undefined && query.maxSizeMb > maxFileSizeMb) {
    throw new ApiError(
      403,
      'OPTION_NOT_ALLOWED',
      `maxSizeMb ${query.maxSizeMb} is above the server limit MAX_FILE_SIZE_MB (${maxFileSizeMb}); a request may only lower it.`,
      { option: 'maxSizeMb', value: query.maxSizeMb, limit: maxFileSizeMb },
    );
  }
  const maxSize =
    query.maxSizeMb === undefined ? maxFileSizeBytes : Math.max(1, Math.floor(query.maxSizeMb * 1024 * 1024));
  const types = query.allowedTypes
    ?.split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  return { maxSize, ...(types ? { allowedTypes: parseAllowedTypes(types) } : {}) };
}
