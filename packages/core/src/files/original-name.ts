/**
 * The original file name a source gave (URL path, `Content-Disposition`, multipart filename), made safe to keep and
 * show: only the last path segment, no control or bidi-override characters, no quotes or separators, at most
 * MAX_ORIGINAL_NAME characters (the extension kept when cut). `undefined` when nothing usable is left.
 */
import { parse as parseDisposition } from 'content-disposition';

export const MAX_ORIGINAL_NAME = 255;

/** Control characters, path separators, quotes, and the Unicode controls that make a name render differently. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is removed
const UNSAFE = /[\u0000-\u001f\u007f-\u009f/\\"<>|:*?\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

/** @example sanitizeOriginalName('../../etc/pass\nwd.txt') // 'pass_wd.txt' */
export function sanitizeOriginalName(raw: string | undefined | null): string | undefined {
  if (!raw) return undefined;
  const last = raw.slice(-4096).split(/[/\\]/).pop() ?? '';
  const cleaned = last.normalize('NFC').replace(UNSAFE, '_').trim();
  if (!cleaned || /^\.+$/.test(cleaned) || /^_+$/.test(cleaned)) return undefined;
  const chars = [...cleaned];
  if (chars.length <= MAX_ORIGINAL_NAME) return cleaned;
  const dot = cleaned.lastIndexOf('.');
  const extension = dot > 0 && cleaned.length - dot <= 16 ? [...cleaned.slice(dot)] : [];
  return [...chars.slice(0, MAX_ORIGINAL_NAME - extension.length), ...extension].join('');
}

/** The name in a `Content-Disposition` header (`filename*` preferred), or undefined when it has none or is invalid. */
export function nameFromDisposition(header: string | undefined): string | undefined {
  if (!header || header.length > 8192) return undefined;
  try {
    const name = parseDisposition(header).parameters.filename;
    return sanitizeOriginalName(name === undefined ? undefined : asUtf8(name));
  } catch {
    return undefined;
  }
}

/**
 * A header as received holds one character per byte. Servers often send a quoted `filename` as raw UTF-8 (not
 * allowed, but what browsers read as UTF-8): a name whose bytes are valid UTF-8 is read so, else left as it is.
 */
function asUtf8(name: string): string {
  if (!/[\x80-\xff]/.test(name) || /[\u0100-\uffff]/.test(name)) return name;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(name, (char) => char.charCodeAt(0)));
  } catch {
    return name;
  }
}

/** The last segment of a URL's path, percent-decoded, or undefined (e.g. for `https://host/`). */
export function nameFromUrl(url: string): string | undefined {
  try {
    const segment = new URL(url).pathname.split('/').pop() ?? '';
    return sanitizeOriginalName(decodeURIComponent(segment));
  } catch {
    return undefined;
  }
}
