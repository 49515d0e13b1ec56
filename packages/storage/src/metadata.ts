/**
 * Object metadata travels as HTTP headers on S3-style APIs, which carry ASCII only. Values that are not plain
 * printable ASCII are sent RFC 2047-encoded (`=?UTF-8?B?…?=`, what S3 itself uses for such values) and decoded
 * on the way back, so every value round-trips and other S3 tools still see a well-formed header.
 */

import { StorageError } from './errors.ts';

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const ENCODED = /^=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=$/i;
const METADATA_KEY = /^[a-z0-9][a-z0-9_-]*$/;

export function encodeMetadataValue(value: string): string {
  if (PRINTABLE_ASCII.test(value) && !value.startsWith('=?')) return value;
  return `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

export function decodeMetadataValue(value: string): string {
  const match = ENCODED.exec(value);
  return match ? Buffer.from(match[1] ?? '', 'base64').toString('utf8') : value;
}

/** Metadata names must survive header transport unchanged: lowercase letters, digits, `_` and `-`. */
export function metadataKeyProblem(name: string): string | undefined {
  return METADATA_KEY.test(name)
    ? undefined
    : `metadata name ${JSON.stringify(name)} must be lowercase letters, digits, "_" or "-"`;
}

export function encodeMetadata(metadata: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata).map(([name, value]) => [name, encodeMetadataValue(value)]));
}

export function decodeMetadata(metadata: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata ?? {}).map(([name, value]) => [name, decodeMetadataValue(value)]));
}

/** Throws STORAGE_INVALID_METADATA when a metadata name could not round-trip through every driver. */
export function validateMetadata(driver: string, metadata: Record<string, string> = {}): Record<string, string> {
  for (const [name, value] of Object.entries(metadata)) {
    const problem = metadataKeyProblem(name);
    if (problem) throw new StorageError(driver, 'STORAGE_INVALID_METADATA', problem);
    if (typeof value !== 'string') {
      throw new StorageError(driver, 'STORAGE_INVALID_METADATA', `metadata ${JSON.stringify(name)} must be a string`);
    }
  }
  return metadata;
}
