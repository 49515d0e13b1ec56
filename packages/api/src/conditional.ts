/**
 * Conditional reads (RFC 9110 §13): a client holding a file whose ETag (the sha256) still matches gets 304 with no
 * body instead of the file again, and a range asked for with `If-Range` of a stale ETag gets the whole file. Files
 * are write-once per sha256, so the ETag is strong: equal tags are equal bytes.
 */

/** Whether an `If-None-Match` value names `etag` (`*` names any; weak tags compare by their opaque part). */
export function noneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  // Bounded: a header is at most the server's header limit, and each entry is compared once.
  return header.split(',').some((entry) => entry.trim().replace(/^W\//, '') === etag);
}

/**
 * Whether a Range may be served under `If-Range`: absent, or the same strong ETag. A date or a weak tag is not
 * comparable to a strong ETag, so the whole file is sent, as RFC 9110 §13.1.5 asks.
 */
export function ifRangeAllows(header: string | undefined, etag: string | undefined): boolean {
  if (header === undefined) return true;
  return etag !== undefined && header.trim() === etag;
}
