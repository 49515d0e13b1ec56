/**
 * Request headers a caller sends with its ingest (authenticated imports). Bounded in count and size, and refused
 * when they would change how the request travels rather than what it asks for: hop-by-hop headers, Host and
 * forwarding headers, framing (Content-Length, Transfer-Encoding) and the Range headers the downloader sets itself.
 * They are credentials: never logged, never stored in plain text, never sent after a redirect to another origin.
 */
import { FileProcessingError } from '../errors.ts';

export const MAX_REQUEST_HEADERS = 16;
export const MAX_REQUEST_HEADER_BYTES = 8 * 1024;

const REFUSED = new Set([
  // Hop-by-hop (RFC 9110 §7.6.1) and proxy headers.
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  // Where the request goes or claims to come from.
  'host',
  'forwarded',
  'via',
  'x-real-ip',
  'client-ip',
  'true-client-ip',
  // Framing and what the downloader controls.
  'content-length',
  'expect',
  'range',
  'if-range',
  'accept-encoding',
]);

const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]{1,64}$/;

/**
 * Lower-cased, checked headers.
 * @throws INVALID_HEADERS naming the header (never its value) and the rule it breaks
 */
export function checkRequestHeaders(headers: Record<string, unknown>): Record<string, string> {
  const entries = Object.entries(headers);
  if (entries.length > MAX_REQUEST_HEADERS) {
    throw invalid(`At most ${MAX_REQUEST_HEADERS} request headers (got ${entries.length}).`, {});
  }
  // No prototype: a header named `constructor` or `__proto__` is a header like any other, not "given twice" or lost.
  const checked: Record<string, string> = Object.create(null);
  let bytes = 0;
  for (const [rawName, value] of entries) {
    const name = rawName.toLowerCase();
    const shown = rawName.slice(0, 64);
    if (!TOKEN.test(name)) throw invalid(`Header name "${shown}" is not a valid HTTP token.`, { header: shown });
    if (REFUSED.has(name) || name.startsWith('x-forwarded-') || name.startsWith('proxy-') || name.startsWith(':')) {
      throw invalid(`Header "${shown}" may not be sent with an ingest (hop-by-hop, routing or framing).`, {
        header: shown,
      });
    }
    if (name in checked) throw invalid(`Header "${shown}" is given twice.`, { header: shown });
    // Visible ASCII and tabs only: no CR/LF (header injection), no NUL, no bytes Node would reject later.
    if (typeof value !== 'string' || !/^[\t\x20-\x7e]*$/.test(value)) {
      throw invalid(`Header "${shown}" must be a string of visible ASCII characters.`, { header: shown });
    }
    bytes += name.length + value.length + 4;
    if (bytes > MAX_REQUEST_HEADER_BYTES) {
      throw invalid(`Request headers may total at most ${MAX_REQUEST_HEADER_BYTES} bytes.`, {});
    }
    checked[name] = value;
  }
  return checked;
}

function invalid(message: string, details: Record<string, unknown>): FileProcessingError {
  return new FileProcessingError(message, 'INVALID_HEADERS', { details });
}
