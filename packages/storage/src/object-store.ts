/** The ObjectStore interface every storage driver implements; streaming at its core. */

export type Body = ReadableStream<Uint8Array> | Uint8Array;

export interface PutOptions {
  contentType: string;
  /** Byte length when known; streams of unknown length work too. */
  size?: number;
  /** String metadata; non-ASCII values round-trip. */
  metadata?: Record<string, string>;
  cacheControl?: string;
  /** Aborting leaves no object (and no partial object) visible. */
  signal?: AbortSignal;
}

export interface PutResult {
  key: string;
  size: number;
  etag: string;
  url: string;
}

export interface ObjectInfo {
  key: string;
  size: number;
  contentType: string;
  metadata: Record<string, string>;
  etag: string;
  lastModified: Date;
  cacheControl?: string;
}

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive (as in HTTP Range); to the end when absent. */
  end?: number;
}

export interface GetResult {
  body: ReadableStream<Uint8Array>;
  info: ObjectInfo;
  /** Bytes in `body` (the range length for ranged reads). */
  length: number;
}

export interface ListOptions {
  cursor?: string;
  /** Default 1000. */
  limit?: number;
}

export interface ListPage {
  items: { key: string; size: number; lastModified: Date }[];
  nextCursor?: string;
}

export interface ObjectStore {
  /** Driver name, used in errors and logs: `file`, `s3`, `supabase`. */
  readonly driver: string;
  put(key: string, body: Body, options: PutOptions): Promise<PutResult>;
  /**
   * Optional: store a local file the caller hands over (it may be moved, not copied). The local disk driver renames
   * it into place (or, across filesystems, copies it and removes it); once this succeeds the file is the store's and
   * the caller does not remove it. Drivers without it are given the file as a stream by `put`.
   */
  putFile?(key: string, path: string, options: PutOptions & { size: number; sha256: string }): Promise<PutResult>;
  /** `putFile` makes the file itself the object (the local disk's rename), rather than reading it and removing it. */
  readonly putFileAdopts?: boolean;
  /**
   * Optional: removes what writes interrupted by a crash left behind (the local disk's temporary files) once older
   * than `olderThanMs`; returns how many. Stores whose interrupted writes leave nothing visible do not have it.
   */
  sweepTemporary?(olderThanMs: number): Promise<number>;
  /** The object, or `null` when it does not exist. */
  get(key: string, options?: { range?: ByteRange }): Promise<GetResult | null>;
  head(key: string): Promise<ObjectInfo | null>;
  /** Deleting a missing object is not an error. */
  delete(key: string): Promise<void>;
  /** Keys under a prefix in lexicographic order, one page at a time. */
  list(prefix: string, options?: ListOptions): Promise<ListPage>;
  /** A URL for the object: public, or presigned for `expiresIn` seconds where the driver supports it. */
  url(key: string, options?: { expiresIn?: number }): Promise<string>;
  /**
   * Optional: a presigned PUT URL for `key`, valid `expiresIn` seconds, that accepts exactly `contentLength` bytes
   * (S3). Drivers without it cannot take uploads directly; the API hands out one-time upload tokens instead.
   */
  signedUploadUrl?(
    key: string,
    options: { expiresIn: number; contentLength: number; contentType?: string },
  ): Promise<string>;
  /** The object's stable address, the same `url` that `put` reports: `file://…`, `s3://bucket/key`, or a public URL. */
  objectUrl(key: string): string;
  copy(fromKey: string, toKey: string): Promise<void>;
}
