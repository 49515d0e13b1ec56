/**
 * S3-compatible driver (`s3://bucket`): AWS, Hetzner Object Storage, MinIO, R2. Uploads stream as multipart uploads
 * from a fixed pool of part buffers (./s3-multipart.ts; aborted multipart uploads are removed), copies
 * are server-side, transient failures are retried by the SDK's standard retry strategy (exponential backoff with
 * jitter), and SDK errors become typed StorageErrors.
 */

import { rm } from 'node:fs/promises';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { FetchHttpHandler } from '@smithy/fetch-http-handler';
import { StorageAbortedError, StorageError } from '../errors.ts';
import { validateKey } from '../keys.ts';
import { decodeMetadata, encodeMetadata, validateMetadata } from '../metadata.ts';
import type {
  Body,
  ByteRange,
  GetResult,
  ListPage,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  PutResult,
} from '../object-store.ts';
import { isNotFound, mapS3Error, S3_DRIVER } from './s3-errors.ts';
import { s3Fetch } from './s3-fetch.ts';
import { fileUpload } from './s3-file-upload.ts';
import { streamUpload } from './s3-multipart.ts';
import { s3ObjectUrl, s3PublicBase } from './s3-object-url.ts';
import { createLeanPut, objectHeaders } from './s3-put.ts';

export { mapS3Error, S3_DRIVER };

const MIN_PART_SIZE = 5 * 1024 * 1024;
/** S3's largest single PutObject (5 GiB). */
const S3_MAX_PUT_BYTES = 5 * 1024 ** 3;

export interface S3StoreOptions {
  bucket: string;
  region?: string;
  /** Endpoint for non-AWS services, e.g. `https://fsn1.your-objectstorage.com` or `http://127.0.0.1:9000`. */
  endpoint?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Path-style addressing (`endpoint/bucket/key`), needed by MinIO and most S3-compatible servers. */
  forcePathStyle?: boolean;
  /** Multipart part size in bytes; at least 5 MiB (S3's minimum). Default 8 MiB. */
  partSizeBytes?: number;
  /**
   * `putFile` sends a file up to this size as one PutObject signed with the SHA-256 it is given (S3 checks it against
   * the bytes it receives), without reading the file to hash it again; a larger one as a multipart upload, each part
   * hashed for its own signature. Default 200 MiB (rclone's `--s3-upload-cutoff`); never below the part size.
   */
  uploadCutoffBytes?: number;
  /** Parts uploaded at once per object. Default 2; a streamed put holds `(queueSize + 1) × partSize` of buffers. */
  queueSize?: number;
  /**
   * A request with no answer after this long is abandoned and retried (transient); an upload gets one more second per
   * 64 KiB of its body. Default 120 s. Without it, a server that stops answering mid-request held an item forever.
   */
  requestTimeoutMs?: number;
  /** Attempts per request, including the first, for transient failures. Default 4. */
  maxAttempts?: number;
  /** When set, `url()` and `objectUrl()` return `${publicBaseUrl}/${key}` instead of presigned / `s3://` URLs. */
  publicBaseUrl?: string;
  /**
   * The bucket allows anonymous reads: without `publicBaseUrl`, object URLs are derived from the endpoint (Hetzner's
   * and AWS's virtual-hosted form, else per `forcePathStyle`).
   */
  publicBucket?: boolean;
  /** Use this client instead of building one (the other connection options are then ignored). */
  client?: S3Client;
}

/** The S3 store itself; `createS3Store` (s3.ts) builds it on first use. */
export function buildS3Store(options: S3StoreOptions): ObjectStore {
  const { bucket } = options;
  const forcePathStyle = options.forcePathStyle ?? Boolean(options.endpoint);
  const publicBase = s3PublicBase(options);
  const objectUrl = s3ObjectUrl(options, publicBase);
  const partSize = Math.max(options.partSizeBytes ?? 8 * 1024 * 1024, MIN_PART_SIZE);
  const queueSize = Math.max(options.queueSize ?? 2, 1);
  const uploadCutoff = Math.min(Math.max(options.uploadCutoffBytes ?? 200 * 1024 * 1024, partSize), S3_MAX_PUT_BYTES);
  const requestTimeoutMs = options.requestTimeoutMs ?? 120_000;
  // A file's parts hold no buffer while in flight (only the one being hashed), so more go at once.
  const fileQueueSize = Math.max(options.queueSize ?? 4, 1);
  const fetchForS3 = s3Fetch(requestTimeoutMs);
  const client =
    options.client ??
    new S3Client({
      region: options.region ?? 'us-east-1',
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      forcePathStyle,
      maxAttempts: options.maxAttempts ?? 4,
      retryMode: 'standard',
      // Bun's native fetch: faster than its node:http emulation and holds less memory per request body.
      // No redirects, and a limit that closes the request (./s3-fetch.ts).
      requestHandler: new FetchHttpHandler({ customFetch: fetchForS3 as typeof fetch }),
      // S3-compatible services (Hetzner, MinIO, R2, s3rver) do not all accept the newer default checksum headers.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      ...(options.accessKeyId && options.secretAccessKey
        ? { credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey } }
        : {}),
    });

  const fail = (error: unknown, what: string): StorageError => mapS3Error(error, what);
  // Small objects and file parts skip the SDK client where its signing inputs are all static (./s3-put.ts).
  const leanPut =
    options.endpoint && forcePathStyle && options.accessKeyId && options.secretAccessKey && !options.client
      ? createLeanPut(
          {
            endpoint: options.endpoint,
            bucket,
            region: options.region ?? 'us-east-1',
            accessKeyId: options.accessKeyId,
            secretAccessKey: options.secretAccessKey,
            maxAttempts: options.maxAttempts ?? 4,
          },
          fetchForS3,
        )
      : undefined;

  function toInfo(
    key: string,
    output: {
      ContentLength?: number;
      ContentType?: string;
      Metadata?: Record<string, string>;
      ETag?: string;
      LastModified?: Date;
      CacheControl?: string;
    },
  ): ObjectInfo {
    return {
      key,
      size: output.ContentLength ?? 0,
      contentType: output.ContentType ?? 'application/octet-stream',
      metadata: decodeMetadata(output.Metadata),
      etag: output.ETag ?? '',
      lastModified: output.LastModified ?? new Date(0),
      ...(output.CacheControl ? { cacheControl: output.CacheControl } : {}),
    };
  }

  async function head(key: string): Promise<ObjectInfo | null> {
    validateKey(S3_DRIVER, key);
    try {
      return toInfo(key, await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
    } catch (error) {
      if (isNotFound(error)) return null;
      throw fail(error, `cannot read ${key}`);
    }
  }

  /** Checks a put's key, metadata and signal; its PutObject parameters. */
  function objectParams(key: string, put: PutOptions) {
    validateKey(S3_DRIVER, key);
    const metadata = encodeMetadata(validateMetadata(S3_DRIVER, put.metadata));
    if (put.signal?.aborted) throw new StorageAbortedError(S3_DRIVER, key, put.signal.reason);
    return {
      Bucket: bucket,
      Key: key,
      ContentType: put.contentType,
      Metadata: metadata,
      ...(put.cacheControl ? { CacheControl: put.cacheControl } : {}),
    };
  }

  const store: ObjectStore = {
    driver: S3_DRIVER,

    async put(key: string, body: Body, put: PutOptions): Promise<PutResult> {
      const params = objectParams(key, put);
      const { signal } = put;
      try {
        if (body instanceof Uint8Array && body.byteLength <= partSize && leanPut) {
          const sha256 = new Bun.CryptoHasher('sha256').update(body).digest('hex');
          const { etag } = await leanPut(key, {
            body,
            size: body.byteLength,
            sha256,
            headers: objectHeaders(params),
            ...(signal ? { signal } : {}),
          });
          return { key, size: body.byteLength, etag, url: objectUrl(key) };
        }
        if (body instanceof Uint8Array && body.byteLength <= partSize) {
          const output = await client.send(new PutObjectCommand({ ...params, Body: body }), { abortSignal: signal });
          return { key, size: body.byteLength, etag: output.ETag ?? '', url: objectUrl(key) };
        }
        const stream =
          body instanceof Uint8Array
            ? (new Blob([body as Uint8Array<ArrayBuffer>]).stream() as ReadableStream<Uint8Array>)
            : body;
        const { etag, size } = await streamUpload(client, params, stream, {
          partSize,
          queueSize,
          ...(signal ? { signal } : {}),
        });
        if (signal?.aborted) {
          // The upload finished in the same tick as the abort: honour the abort, remove what landed.
          await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => {});
          throw new StorageAbortedError(S3_DRIVER, key, signal.reason);
        }
        return { key, size, etag, url: objectUrl(key) };
      } catch (error) {
        if (body instanceof ReadableStream) await body.cancel().catch(() => {});
        if (error instanceof StorageError) throw error;
        if (signal?.aborted) throw new StorageAbortedError(S3_DRIVER, key, error);
        throw fail(error, `cannot write ${key}`);
      }
    },

    /** Sends the file from the page cache (./s3-file-upload.ts), then removes it: handed over, as `putFile` says. */
    async putFile(key, path, put): Promise<PutResult> {
      if (options.client) {
        // A client of the caller's may not send a file slice (the SDK's node:http handler takes bytes and streams).
        const result = await store.put(key, Bun.file(path).stream(), put);
        await rm(path, { force: true });
        return result;
      }
      const params = objectParams(key, put);
      const { signal } = put;
      try {
        const { etag } = await fileUpload(client, params, path, put.size, {
          sha256: put.sha256,
          uploadCutoff,
          partSize,
          queueSize: fileQueueSize,
          ...(signal ? { signal } : {}),
          ...(leanPut ? { leanPut } : {}),
        });
        if (signal?.aborted) {
          await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => {});
          throw new StorageAbortedError(S3_DRIVER, key, signal.reason);
        }
        await rm(path, { force: true });
        return { key, size: put.size, etag, url: objectUrl(key) };
      } catch (error) {
        if (error instanceof StorageError) throw error;
        if (signal?.aborted) throw new StorageAbortedError(S3_DRIVER, key, error);
        throw fail(error, `cannot write ${key}`);
      }
    },

    async get(key: string, get: { range?: ByteRange } = {}): Promise<GetResult | null> {
      validateKey(S3_DRIVER, key);
      const { range } = get;
      try {
        const output = await client.send(
          new GetObjectCommand({
            Bucket: bucket,
            Key: key,
            ...(range ? { Range: `bytes=${range.start}-${range.end ?? ''}` } : {}),
          }),
        );
        const length = output.ContentLength ?? 0;
        const total = totalFromContentRange(output.ContentRange) ?? length;
        const body = output.Body?.transformToWebStream() as ReadableStream<Uint8Array> | undefined;
        return {
          body: body ?? new Blob([]).stream(),
          info: { ...toInfo(key, output), size: total },
          length,
        };
      } catch (error) {
        if (isNotFound(error)) return null;
        throw fail(error, `cannot read ${key}`);
      }
    },

    head,

    async delete(key: string): Promise<void> {
      validateKey(S3_DRIVER, key);
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      } catch (error) {
        if (!isNotFound(error)) throw fail(error, `cannot delete ${key}`);
      }
    },

    async list(prefix: string, list = {}): Promise<ListPage> {
      const limit = Math.min(Math.max(list.limit ?? 1000, 1), 1000);
      try {
        // ListObjects with a Marker (the last key seen) pages identically on every S3-compatible service, and the
        // cursor stays a plain key the caller can read; ListObjectsV2's opaque tokens are not portable.
        const output = await client.send(
          new ListObjectsCommand({
            Bucket: bucket,
            Prefix: prefix,
            MaxKeys: limit,
            ...(list.cursor ? { Marker: list.cursor } : {}),
          }),
        );
        const items = (output.Contents ?? []).map((item) => ({
          key: item.Key ?? '',
          size: item.Size ?? 0,
          lastModified: item.LastModified ?? new Date(0),
        }));
        const last = items.at(-1)?.key;
        return output.IsTruncated && last ? { items, nextCursor: last } : { items };
      } catch (error) {
        throw fail(error, `cannot list ${prefix || '/'}`);
      }
    },

    async url(key: string, url: { expiresIn?: number } = {}): Promise<string> {
      validateKey(S3_DRIVER, key);
      if (publicBase) return objectUrl(key);
      return getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), {
        expiresIn: url.expiresIn ?? 3600,
      });
    },

    async signedUploadUrl(key, options): Promise<string> {
      validateKey(S3_DRIVER, key);
      // Content-Length is signed, so S3 refuses a body of any other length (a PUT cannot carry a range of lengths).
      const command = new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        ContentLength: options.contentLength,
        ...(options.contentType ? { ContentType: options.contentType } : {}),
      });
      return getSignedUrl(client, command, {
        expiresIn: options.expiresIn,
        signableHeaders: new Set(['content-length', ...(options.contentType ? ['content-type'] : [])]),
      });
    },

    objectUrl,

    async copy(fromKey: string, toKey: string): Promise<void> {
      validateKey(S3_DRIVER, fromKey);
      validateKey(S3_DRIVER, toKey);
      try {
        await client.send(
          new CopyObjectCommand({
            Bucket: bucket,
            Key: toKey,
            CopySource: `${bucket}/${fromKey.split('/').map(encodeURIComponent).join('/')}`,
            MetadataDirective: 'COPY',
          }),
        );
      } catch (error) {
        if (isNotFound(error)) {
          throw new StorageError(S3_DRIVER, 'STORAGE_NOT_FOUND', `cannot copy ${fromKey}: no such object`);
        }
        throw fail(error, `cannot copy ${fromKey} to ${toKey}`);
      }
    },
  };
  return store;
}

function totalFromContentRange(contentRange: string | undefined): number | undefined {
  const total = contentRange?.split('/')[1];
  return total && total !== '*' ? Number(total) : undefined;
}
