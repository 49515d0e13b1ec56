/** Object keys: `media_type/uid.ext`-style relative paths, refused when they could escape or confuse a store. */
import { InvalidKeyError } from './errors.ts';

const MAX_KEY_BYTES = 1024;

/** Returns the key unchanged, or throws InvalidKeyError naming the problem. */
export function validateKey(driver: string, key: string): string {
  const problem = keyProblem(key);
  if (problem) throw new InvalidKeyError(driver, key, problem);
  return key;
}

function keyProblem(key: string): string | undefined {
  if (typeof key !== 'string' || key.length === 0) return 'it is empty';
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) return `it is longer than ${MAX_KEY_BYTES} bytes`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find control characters.
  if (/[\u0000-\u001f\u007f]/.test(key)) return 'it contains control characters';
  if (key.startsWith('/')) return 'it starts with "/"';
  if (key.includes('\\')) return 'it contains a backslash';
  for (const segment of key.split('/')) {
    if (segment === '') return 'it has an empty path segment';
    if (segment === '.' || segment === '..') return 'it contains a "." or ".." segment';
    // Dot-names are reserved for drivers' own bookkeeping (the file driver's temp files and metadata sidecars).
    if (segment.startsWith('.')) return 'a path segment starts with "."';
  }
  return undefined;
}
