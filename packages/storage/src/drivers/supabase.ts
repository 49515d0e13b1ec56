/**
 * Supabase Storage driver (`supabase://bucket`) on `@supabase/supabase-js`: upserting uploads streamed as the
 * request body, streamed downloads, listing with `list-v2` cursors, server-side copy, public and signed URLs.
 *
 * Two calls go to the Storage REST API directly, with the same credentials: object info (supabase-js camelCases the
 * whole response, which would rename user metadata such as `record_uid`) and ranged downloads (supabase-js cannot
 * send a `Range` header). Supabase reports many failures as HTTP 400 with the real status in the body's
 * `statusCode`; errors are mapped from that.
 */
import { isTransientStatus } from '@mediaforge/core';
import type { SupabaseClient } from '@supabase/supabase-js';
import { StorageAbortedError, StorageError, type StorageErrorCode } from '../errors.ts';
import { validateKey } from '../keys.ts';
import { validateMetadata } from '../metadata.ts';
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

export const SUPABASE_DRIVER = 'supabase';

export interface SupabaseStoreOptions {
  /** Project URL, e.g. `https://abcd.supabase.co`. */
  url: string;
  /** A service-role key (or any key whose policies allow the operations). Never logged. */
  serviceRoleKey: string;
  bucket: string;
  /** The bucket is public: `url()` returns its public URL instead of a signed one. */
  publicBucket?: boolean;
}

interface InfoBody {
  size?: number;
  content_type?: string;
  cache_control?: string;
  etag?: string;
  last_modified?: string;
  updated_at?: string;
  created_at?: string;
  metadata?: Record<string, unknown> | null;
}

interface ErrorLike {
  name?: string;
  message?: string;
  status?: number;
  statusCode?: string;
  code?: string;
}

export function createSupabaseStore(options: SupabaseStoreOptions): ObjectStore {
  const { bucket } = options;
  const base = options.url.replace(/\/+$/, '');
  const storageUrl = `${base}/storage/v1`;
  // supabase-js is loaded on first use (~35 ms of every process start otherwise, paid even with another store).
  let client: SupabaseClient | undefined;
  const files = () => {
    client ??= (require('@supabase/supabase-js') as typeof import('@supabase/supabase-js')).createClient(
      base,
      options.serviceRoleKey,
      { auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false } },
    );
    return client.storage.from(bucket);
  };
  const authHeaders = { apikey: options.serviceRoleKey, authorization: `Bearer ${options.serviceRoleKey}` };
  const objectPath = (key: string) => `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;

  /** A direct Storage API request with the client's credentials; failures are mapped like supabase-js errors. */
  async function rest(path: string, init: RequestInit, what: string): Promise<Response | null> {
    let response: Response;
    try {
      response = await fetch(`${storageUrl}${path}`, { ...init, headers: { ...authHeaders, ...init.headers } });
    } catch (error) {
      throw mapSupabaseError({ name: 'FetchError', message: (error as Error).message }, what);
    }
    if (response.ok) return response;
    const body = (await response.json().catch(() => ({}))) as ErrorLike & { error?: string };
    const error = { ...body, status: response.status, statusCode: body.statusCode ?? String(response.status) };
    if (isNotFound(error)) return null;
    throw mapSupabaseError({ ...error, message: body.message ?? body.error ?? response.statusText }, what);
  }

  async function head(key: string): Promise<ObjectInfo | null> {
    validateKey(SUPABASE_DRIVER, key);
    const response = await rest(`/object/info/${objectPath(key)}`, { method: 'GET' }, `cannot read ${key}`);
    if (!response) return null;
    const info = (await response.json()) as InfoBody;
    const metadata = Object.fromEntries(
      Object.entries(info.metadata ?? {}).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
    );
    return {
      key,
      size: info.size ?? 0,
      contentType: info.content_type ?? 'application/octet-stream',
      metadata,
      etag: info.etag ?? '',
      lastModified: new Date(info.last_modified ?? info.updated_at ?? info.created_at ?? 0),
      ...(info.cache_control ? { cacheControl: info.cache_control } : {}),
    };
  }

  return {
    driver: SUPABASE_DRIVER,

    async put(key: string, body: Body, put: PutOptions): Promise<PutResult> {
      validateKey(SUPABASE_DRIVER, key);
      const metadata = validateMetadata(SUPABASE_DRIVER, put.metadata);
      const { signal } = put;
      if (signal?.aborted) throw new StorageAbortedError(SUPABASE_DRIVER, key, signal.reason);
      let size = body instanceof Uint8Array ? body.byteLength : 0;
      const payload =
        body instanceof Uint8Array
          ? body
          : abortable(
              countBytes(body, (n) => (size += n)),
              signal,
            );
      const { error } = await files().upload(key, payload, {
        upsert: true,
        contentType: put.contentType,
        metadata,
        ...(put.cacheControl ? { headers: { 'cache-control': put.cacheControl } } : {}),
      });
      if (error) {
        if (body instanceof ReadableStream) await body.cancel().catch(() => {});
        if (signal?.aborted) throw new StorageAbortedError(SUPABASE_DRIVER, key, error);
        throw mapSupabaseError(error, `cannot write ${key}`);
      }
      const info = await head(key);
      return { key, size, etag: info?.etag ?? '', url: objectUrl(key) };
    },

    async get(key: string, get: { range?: ByteRange } = {}): Promise<GetResult | null> {
      const info = await head(key);
      if (!info) return null;
      const { range } = get;
      if (range) {
        const response = await rest(
          `/object/authenticated/${objectPath(key)}`,
          { method: 'GET', headers: { range: `bytes=${range.start}-${range.end ?? ''}` } },
          `cannot read ${key}`,
        );
        if (!response?.body) return null;
        const length = Number(response.headers.get('content-length') ?? info.size - range.start);
        return { body: response.body as ReadableStream<Uint8Array>, info, length };
      }
      const { data, error } = await files().download(key).asStream();
      if (error) {
        if (isNotFound(error)) return null;
        throw mapSupabaseError(error, `cannot read ${key}`);
      }
      return { body: data as ReadableStream<Uint8Array>, info, length: info.size };
    },

    head,

    async delete(key: string): Promise<void> {
      validateKey(SUPABASE_DRIVER, key);
      const { error } = await files().remove([key]);
      if (error && !isNotFound(error)) throw mapSupabaseError(error, `cannot delete ${key}`);
    },

    async list(prefix: string, list = {}): Promise<ListPage> {
      const limit = Math.min(Math.max(list.limit ?? 1000, 1), 1000);
      const { data, error } = await files().listV2({
        prefix,
        limit,
        with_delimiter: false,
        ...(list.cursor ? { cursor: list.cursor } : {}),
      });
      if (error) throw mapSupabaseError(error, `cannot list ${prefix || '/'}`);
      const items = data.objects.map((object) => ({
        key: object.key ?? object.name,
        size: Number(object.metadata?.size ?? 0),
        lastModified: new Date(object.updated_at ?? object.created_at),
      }));
      return data.hasNext && data.nextCursor ? { items, nextCursor: data.nextCursor } : { items };
    },

    async url(key: string, url: { expiresIn?: number } = {}): Promise<string> {
      validateKey(SUPABASE_DRIVER, key);
      if (options.publicBucket) return files().getPublicUrl(key).data.publicUrl;
      const { data, error } = await files().createSignedUrl(key, url.expiresIn ?? 3600);
      if (error) throw mapSupabaseError(error, `cannot sign a URL for ${key}`);
      return data.signedUrl;
    },

    objectUrl(key: string): string {
      return objectUrl(validateKey(SUPABASE_DRIVER, key));
    },

    async copy(fromKey: string, toKey: string): Promise<void> {
      validateKey(SUPABASE_DRIVER, fromKey);
      validateKey(SUPABASE_DRIVER, toKey);
      const { error } = await files().copy(fromKey, toKey);
      if (!error) return;
      if (isNotFound(error)) {
        throw new StorageError(SUPABASE_DRIVER, 'STORAGE_NOT_FOUND', `cannot copy ${fromKey}: no such object`);
      }
      throw mapSupabaseError(error, `cannot copy ${fromKey} to ${toKey}`);
    },
  };

  function objectUrl(key: string): string {
    return options.publicBucket
      ? files().getPublicUrl(key).data.publicUrl
      : `${storageUrl}/object/authenticated/${objectPath(key)}`;
  }
}

function countBytes(body: ReadableStream<Uint8Array>, add: (n: number) => void): ReadableStream<Uint8Array> {
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        add(chunk.byteLength);
        controller.enqueue(chunk);
      },
    }),
  );
}

/** supabase-js uploads take no AbortSignal: the body stream errors instead, which aborts the request. */
function abortable(body: ReadableStream<Uint8Array>, signal: AbortSignal | undefined): ReadableStream<Uint8Array> {
  if (!signal) return body;
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (signal.aborted) {
        await reader.cancel(signal.reason).catch(() => {});
        controller.error(signal.reason ?? new Error('aborted'));
        return;
      }
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

/** Supabase's status: the body's `statusCode` when present (often "404" inside an HTTP 400), else the HTTP one. */
function statusOf(error: ErrorLike): number {
  const fromBody = Number(error.statusCode);
  return Number.isInteger(fromBody) && fromBody >= 100 ? fromBody : (error.status ?? 0);
}

function isNotFound(error: ErrorLike): boolean {
  const text = `${error.code ?? ''} ${error.message ?? ''}`;
  if (/bucket/i.test(text)) return false;
  return error.code === 'NoSuchKey' || statusOf(error) === 404 || /object not found/i.test(text);
}

export function mapSupabaseError(error: unknown, what: string): StorageError {
  if (error instanceof StorageError) return error;
  const err = error as ErrorLike;
  const status = statusOf(err);
  const text = `${err.code ?? ''} ${err.message ?? ''}`;
  let code: StorageErrorCode;
  if (err.code === 'NoSuchBucket' || /bucket not found/i.test(text)) code = 'STORAGE_BUCKET_MISSING';
  else if (isNotFound(err)) code = 'STORAGE_NOT_FOUND';
  else if (status === 401 || status === 403 || /InvalidJWT|Unauthorized|AccessDenied/i.test(text))
    code = 'STORAGE_ACCESS_DENIED';
  else if (status === 413 || /EntityTooLarge|too large/i.test(text)) code = 'STORAGE_TOO_LARGE';
  else if (isTransientStatus(status) || err.name === 'StorageUnknownError' || err.name === 'FetchError')
    code = 'STORAGE_TRANSIENT';
  else code = 'STORAGE_ERROR';
  const detail = err.message ?? 'unknown error';
  return new StorageError(SUPABASE_DRIVER, code, `${what}: ${detail}${status ? ` (status ${status})` : ''}`, {
    cause: error,
  });
}
