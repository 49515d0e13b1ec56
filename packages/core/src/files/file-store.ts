/**
 * What the file pipeline needs from object storage. Core depends on no package of ours, so this is the structural
 * subset of `@mediaforge/storage`'s ObjectStore it uses; every ObjectStore satisfies it.
 */
import { createHash } from 'node:crypto';

export interface FileStore {
  readonly driver: string;
  put(
    key: string,
    body: ReadableStream<Uint8Array> | Uint8Array,
    options: { contentType: string; metadata?: Record<string, string>; signal?: AbortSignal },
  ): Promise<{ key: string; size: number; etag: string; url: string }>;
  head(
    key: string,
  ): Promise<{ size: number; contentType: string; metadata: Record<string, string>; etag: string } | null>;
  get(key: string): Promise<{ body: ReadableStream<Uint8Array> } | null>;
  /**
   * Optional: store a file already on local disk, which the store may take over (rename) instead of streaming it
   * through JavaScript again. `sha256` is the file's, computed while it was written (the store may use it as its
   * ETag or checksum instead of hashing the bytes again). Once it succeeds the file is the store's (moved into place,
   * or copied and removed): the caller does not remove it.
   */
  putFile?(
    key: string,
    path: string,
    options: {
      contentType: string;
      metadata?: Record<string, string>;
      signal?: AbortSignal;
      size: number;
      sha256: string;
    },
  ): Promise<{ key: string; size: number; etag: string; url: string }>;
  /**
   * `putFile` makes the file itself the object (a rename), so syncing it while it is written pays off; otherwise it
   * is a temporary file and its writeback would be wasted.
   */
  readonly putFileAdopts?: boolean;
  /** Removes temporary files interrupted writes left, once older than `olderThanMs` (the local disk's); how many. */
  sweepTemporary?(olderThanMs: number): Promise<number>;
  /** The object's stable address, as `put` reports it. */
  objectUrl(key: string): string;
  /** Removes the object; a missing one is not an error. */
  delete(key: string): Promise<void>;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function sha256OfStream(stream: ReadableStream<Uint8Array>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk);
  return hash.digest('hex');
}
