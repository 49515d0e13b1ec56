/**
 * A queued ingest's per-request filters and headers, between the request and the worker: checked when the task is
 * queued (so a bad option is refused before anything runs), stored with the task with the headers sealed, and
 * turned back into pipeline options by the worker.
 */
import { type AllowedTypes, parseAllowedTypes } from '../files/type-filter.ts';
import { checkRequestHeaders } from './request-headers.ts';
import { openHeaders, sealHeaders } from './sealed-headers.ts';

export interface IngestFilterOptions {
  /** Media types (`image`), MIME types (`image/png`) or `kind/*` this request accepts; others fail FILE_TYPE_NOT_ALLOWED. */
  allowedTypes?: readonly string[];
  /** Request headers for the download (e.g. `authorization`); see request-headers.ts for what is refused. */
  headers?: Record<string, string>;
}

/** The stored form: allowed types as given (checked), headers sealed. @throws VALIDATION_ERROR, INVALID_HEADERS */
export function storedIngestFilters(
  options: IngestFilterOptions,
  headersKey: string | undefined,
): { allowedTypes?: string[]; sealedHeaders?: string } {
  const stored: { allowedTypes?: string[]; sealedHeaders?: string } = {};
  if (options.allowedTypes !== undefined) {
    parseAllowedTypes(options.allowedTypes);
    stored.allowedTypes = [...options.allowedTypes];
  }
  if (options.headers !== undefined && Object.keys(options.headers).length > 0) {
    stored.sealedHeaders = sealHeaders(checkRequestHeaders(options.headers), headersKey);
  }
  return stored;
}

/** What a worker passes to `processUrl` for a stored task's options. @throws INVALID_HEADERS */
export function ingestFiltersFromStored(
  options: Record<string, unknown>,
  headersKey: string | undefined,
): { allowedTypes?: AllowedTypes; download?: { headers: Record<string, string> } } {
  const types = options.allowedTypes;
  const sealed = options.sealedHeaders;
  return {
    ...(Array.isArray(types) ? { allowedTypes: parseAllowedTypes(types.map(String)) } : {}),
    ...(typeof sealed === 'string'
      ? { download: { headers: checkRequestHeaders(openHeaders(sealed, headersKey)) } }
      : {}),
  };
}
