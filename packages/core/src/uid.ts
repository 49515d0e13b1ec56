/** Record UIDs: validation and generation. */
import { InvalidUidError } from './errors.ts';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a canonical UUID string (any version). */
export function isUid(value: string): boolean {
  return UUID_PATTERN.test(value);
}

/** Returns the lower-cased UUID, or throws `InvalidUidError`. Surrounding whitespace is ignored. */
export function parseUid(value: string): string {
  const trimmed = value.trim();
  if (!isUid(trimmed)) throw new InvalidUidError(value);
  return trimmed.toLowerCase();
}

/** A new time-ordered UUID (v7), so new records stay close together in indexes. */
export function newUid(): string {
  return Bun.randomUUIDv7();
}
