/**
 * One signed S3 PUT (PutObject, or UploadPart with `partNumber` and `uploadId`) sent with the runtime's fetch, without
 * the SDK client's middleware stack. Per small object that stack (serialization, endpoint rules, user agent, retry
 * bookkeeping, response parsing) cost ~0.65 ms of CPU on this machine, a fifth of a 16 KiB file's whole ingest to
 * S3 (BENCHMARKS.md, issue 20). The request is signed by the SDK's own SigV4 signer (`@smithy/signature-v4`, with
 * S3's settings: the path is not escaped twice), its payload hash is the body's SHA-256 computed by the caller, and
 * transient failures are retried as the SDK's standard mode does (exponential backoff with jitter, `maxAttempts`).
 * Used only for path-style addressing on an explicit endpoint with static keys (MinIO, Hetzner, R2, s3rver): any
 * other set-up (AWS's virtual hosts, credential chains, session tokens) goes through the SDK client.
 */
import { createHash, createHmac } from 'node:crypto';
import { backoffMs, isTransientStatus } from '@mediaforge/core';
import { SignatureV4 } from '@smithy/signature-v4';
import { StorageAbortedError, StorageError } from '../errors.ts';
import { mapS3Error, S3_DRIVER, s3ErrorFor } from './s3-errors.ts';
import type { S3Fetch } from './s3-fetch.ts';

function bytesOf(data: ArrayBuffer | ArrayBufferView): Uint8Array {
  return data instanceof ArrayBuffer
    ? new Uint8Array(data)
    : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** The SDK's checksum interface over node:crypto (SHA-256, or HMAC-SHA-256 when given a key). */
class Sha256 {
  private hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  private readonly secret: string | Uint8Array | undefined;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.secret = secret === undefined || typeof secret === 'string' ? secret : bytesOf(secret);
    this.hash = this.fresh();
  }
  private fresh() {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', this.secret);
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(typeof data === 'string' ? data : bytesOf(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

export interface LeanPutTarget {
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  maxAttempts: number;
}

export interface LeanPut {
  body: Blob | Uint8Array;
  size: number;
  /** The body's SHA-256 (hex): signed as the payload hash, which S3 checks against the bytes it receives. */
  sha256: string;
  /** Content-Type, Cache-Control, `x-amz-meta-*` (already S3-safe values). */
  headers?: Record<string, string>;
  part?: { uploadId: string; partNumber: number };
  signal?: AbortSignal;
}

/** S3's URI encoding of a key (RFC 3986, `/` kept), as the SDK sends it. */
function encodeKey(key: string): string {
  return key
    .split('/')
    .map((segment) =>
      encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    )
    .join('/');
}

/** PutObject's headers for the object's content type, cache control and (already encoded) metadata. */
export function objectHeaders(params: {
  ContentType: string;
  CacheControl?: string;
  Metadata: Record<string, string>;
}): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': params.ContentType };
  if (params.CacheControl) headers['cache-control'] = params.CacheControl;
  for (const [name, value] of Object.entries(params.Metadata)) headers[`x-amz-meta-${name.toLowerCase()}`] = value;
  return headers;
}

/** An error reply's first 64 KiB (S3's XML errors are a few hundred bytes; nothing bounds a broken server's). */
async function errorText(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  while (bytes < 65_536) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    bytes += value.byteLength;
  }
  await reader.cancel().catch(() => {});
  return new TextDecoder().decode(Buffer.concat(chunks).subarray(0, 65_536));
}

export type LeanPutFn = (key: string, put: LeanPut) => Promise<{ etag: string }>;

/** `send`: the store's fetch (./s3-fetch.ts: no redirects, limits that abort the request). */
export function createLeanPut(target: LeanPutTarget, send: S3Fetch): LeanPutFn {
  const base = new URL(target.endpoint);
  const prefix = base.pathname.replace(/\/+$/, '');
  const signer = new SignatureV4({
    credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
    region: target.region,
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  });

  return async function leanPut(key: string, put: LeanPut): Promise<{ etag: string }> {
    const path = `${prefix}/${target.bucket}/${encodeKey(key)}`;
    const query: Record<string, string> = put.part
      ? { partNumber: String(put.part.partNumber), uploadId: put.part.uploadId }
      : {};
    const search = put.part ? `?${new URLSearchParams(query).toString()}` : '';
    const url = `${base.protocol}//${base.host}${path}${search}`;
    const what = `cannot write ${key}`;
    for (let attempt = 1; ; attempt += 1) {
      if (put.signal?.aborted) throw new StorageAbortedError(S3_DRIVER, key, put.signal.reason);
      const signed = await signer.sign({
        method: 'PUT',
        protocol: base.protocol,
        hostname: base.hostname,
        ...(base.port ? { port: Number(base.port) } : {}),
        path,
        query,
        headers: {
          host: base.host,
          'content-length': String(put.size),
          'x-amz-content-sha256': put.sha256,
          ...put.headers,
        },
      });
      const { host: _host, ...headers } = signed.headers;
      let failure: StorageError;
      try {
        const response = await send(url, {
          method: 'PUT',
          headers,
          body: put.body as Blob | Uint8Array<ArrayBuffer>,
          ...(put.signal ? { signal: put.signal } : {}),
        });
        if (response.ok) {
          await response.body?.cancel();
          return { etag: response.headers.get('etag') ?? '' };
        }
        const text = await errorText(response);
        const name = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? '';
        const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? '';
        failure = s3ErrorFor(response.status, name, message, what);
        if (!(failure.transient || isTransientStatus(response.status))) throw failure;
      } catch (error) {
        if (put.signal?.aborted) throw new StorageAbortedError(S3_DRIVER, key, error);
        if (error instanceof StorageError) throw error;
        // An abandoned request (TimeoutError) or a failed connection, which carries its system code (ECONNREFUSED,
        // ECONNRESET…), is transient, as for the SDK's requests; anything else (a header fetch refuses) would fail
        // the same way again.
        failure = mapS3Error(error, what);
        if (!failure.transient) throw failure;
      }
      if (attempt >= target.maxAttempts) throw failure;
      await Bun.sleep(backoffMs(attempt, { baseMs: 100, maxMs: 20_000 }));
    }
  };
}
