/**
 * A loopback stand-in for hosted Supabase Storage, for tests: a real HTTP server implementing the Storage REST
 * endpoints the supabase driver uses, with Supabase's documented request and response shapes — including its habit
 * of answering HTTP 400 with the real status inside the JSON body (`{ statusCode: "404", error, message }`).
 * The hosted service cannot be reached from the test machine; this is the stand-in, and says so.
 */
import { createHmac, randomUUID } from 'node:crypto';

export interface StoredObject {
  bytes: Uint8Array;
  contentType: string;
  cacheControl: string;
  metadata: Record<string, unknown>;
  etag: string;
  id: string;
  createdAt: string;
  updatedAt: string;
}

export interface TestSupabaseServer {
  url: string;
  serviceRoleKey: string;
  bucket: string;
  objects: Map<string, StoredObject>;
  /** Settings-style environment for pointing mediaforge at this server. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export interface SupabaseServerOptions {
  bucket?: string;
  publicBucket?: boolean;
  /** Bucket `file_size_limit` in bytes. */
  fileSizeLimit?: number;
}

const supabaseError = (statusCode: number, error: string, message: string, httpStatus = 400) =>
  Response.json({ statusCode: String(statusCode), error, message }, { status: httpStatus });

export async function startSupabaseStorageServer(options: SupabaseServerOptions = {}): Promise<TestSupabaseServer> {
  const bucket = options.bucket ?? 'mediaforge-test';
  const serviceRoleKey = `test-service-role-${randomUUID()}`;
  const secret = randomUUID();
  const objects = new Map<string, StoredObject>();

  const sign = (path: string, exp: number) => {
    const payload = Buffer.from(JSON.stringify({ url: path, exp })).toString('base64url');
    return `${payload}.${createHmac('sha256', secret).update(payload).digest('base64url')}`;
  };
  const verify = (token: string, path: string) => {
    const [payload = '', mac] = token.split('.');
    if (createHmac('sha256', secret).update(payload).digest('base64url') !== mac) return false;
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { url: string; exp: number };
    return claims.url === path && claims.exp * 1000 > Date.now();
  };

  const notFound = () => supabaseError(404, 'not_found', 'Object not found');

  function serveObject(request: Request, object: StoredObject): Response {
    const headers = new Headers({
      'content-type': object.contentType,
      'cache-control': object.cacheControl,
      etag: object.etag,
      'last-modified': new Date(object.updatedAt).toUTCString(),
      'accept-ranges': 'bytes',
    });
    const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.get('range') ?? '');
    if (!range) return new Response(object.bytes as Uint8Array<ArrayBuffer>, { headers });
    const start = Number(range[1]);
    const end = Math.min(range[2] ? Number(range[2]) : object.bytes.byteLength - 1, object.bytes.byteLength - 1);
    if (start > end) return new Response(null, { status: 416 });
    headers.set('content-range', `bytes ${start}-${end}/${object.bytes.byteLength}`);
    return new Response(object.bytes.slice(start, end + 1) as Uint8Array<ArrayBuffer>, { status: 206, headers });
  }

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (!url.pathname.startsWith('/storage/v1/object/')) return supabaseError(404, 'not_found', 'Route not found', 404);
    const parts = url.pathname.slice('/storage/v1/object/'.length).split('/').map(decodeURIComponent);
    const action = ['info', 'authenticated', 'public', 'sign', 'list-v2', 'copy'].includes(parts[0] ?? '')
      ? parts.shift()
      : undefined;

    // Public objects and signed URLs need no key; everything else needs the service key.
    const method = request.method;
    const open = (action === 'public' || action === 'sign') && method === 'GET';
    if (!open && request.headers.get('authorization') !== `Bearer ${serviceRoleKey}`) {
      return supabaseError(403, 'Unauthorized', 'invalid signature');
    }

    if (action === 'copy') {
      const body = (await request.json()) as { bucketId: string; sourceKey: string; destinationKey: string };
      if (body.bucketId !== bucket) return supabaseError(404, 'Bucket not found', 'Bucket not found');
      const source = objects.get(body.sourceKey);
      if (!source) return notFound();
      const now = new Date().toISOString();
      objects.set(body.destinationKey, { ...source, id: randomUUID(), createdAt: now, updatedAt: now });
      return Response.json({ Key: `${bucket}/${body.destinationKey}` });
    }

    const bucketName = parts.shift();
    const key = parts.join('/');
    if (bucketName !== bucket) return supabaseError(404, 'Bucket not found', 'Bucket not found');

    if (action === 'list-v2') {
      const body = (await request.json()) as { prefix?: string; limit?: number; cursor?: string };
      const after = body.cursor ? Buffer.from(body.cursor, 'base64').toString() : '';
      const keys = [...objects.keys()].filter((k) => k.startsWith(body.prefix ?? '') && k > after).sort();
      const page = keys.slice(0, body.limit ?? 1000);
      const hasNext = keys.length > page.length;
      return Response.json({
        hasNext,
        folders: [],
        objects: page.map((k) => {
          const object = objects.get(k) as StoredObject;
          return {
            id: object.id,
            key: k,
            name: k,
            updated_at: object.updatedAt,
            created_at: object.createdAt,
            last_accessed_at: object.updatedAt,
            metadata: {
              eTag: object.etag,
              size: object.bytes.byteLength,
              mimetype: object.contentType,
              cacheControl: object.cacheControl,
              lastModified: object.updatedAt,
              contentLength: object.bytes.byteLength,
              httpStatusCode: 200,
            },
          };
        }),
        ...(hasNext ? { nextCursor: Buffer.from(page.at(-1) ?? '').toString('base64') } : {}),
      });
    }

    if (action === 'sign') {
      if (method === 'POST') {
        const { expiresIn } = (await request.json()) as { expiresIn: number };
        if (!objects.has(key)) return notFound();
        const path = `${bucket}/${key}`;
        const token = sign(path, Math.floor(Date.now() / 1000) + expiresIn);
        return Response.json({ signedURL: `/object/sign/${path}?token=${token}` });
      }
      if (!verify(url.searchParams.get('token') ?? '', `${bucket}/${key}`)) {
        return supabaseError(400, 'InvalidSignature', 'The signature is invalid or expired');
      }
      const object = objects.get(key);
      return object ? serveObject(request, object) : notFound();
    }

    if (action === 'info') {
      const object = objects.get(key);
      if (!object) return notFound();
      return Response.json({
        id: object.id,
        version: object.id,
        name: key,
        bucket_id: bucket,
        size: object.bytes.byteLength,
        content_type: object.contentType,
        cache_control: object.cacheControl,
        etag: object.etag,
        metadata: object.metadata,
        last_modified: object.updatedAt,
        created_at: object.createdAt,
      });
    }

    if (action === 'public') {
      if (!options.publicBucket) return supabaseError(400, 'Bucket not public', 'The bucket is not public');
      const object = objects.get(key);
      return object ? serveObject(request, object) : notFound();
    }

    if (method === 'GET') {
      const object = objects.get(key);
      return object ? serveObject(request, object) : notFound();
    }

    if (method === 'DELETE' && key === '') {
      const { prefixes } = (await request.json()) as { prefixes: string[] };
      const removed = prefixes.filter((k) => objects.delete(k)).map((name) => ({ name, bucket_id: bucket }));
      return Response.json(removed);
    }

    if (method === 'POST' || method === 'PUT') {
      const exists = objects.has(key);
      if (method === 'POST' && exists && request.headers.get('x-upsert') !== 'true') {
        return supabaseError(409, 'Duplicate', 'The resource already exists');
      }
      if (method === 'PUT' && !exists) return notFound();
      // The object becomes visible only once the whole body has arrived; an aborted upload stores nothing.
      const bytes = new Uint8Array(await request.arrayBuffer());
      if (options.fileSizeLimit !== undefined && bytes.byteLength > options.fileSizeLimit) {
        return supabaseError(413, 'Payload too large', 'The object exceeded the maximum allowed size');
      }
      const header = request.headers.get('x-metadata');
      const now = new Date().toISOString();
      const id = randomUUID();
      objects.set(key, {
        bytes,
        contentType: request.headers.get('content-type') ?? 'application/octet-stream',
        cacheControl: request.headers.get('cache-control') ?? 'max-age=3600',
        metadata: header ? (JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as Record<string, unknown>) : {},
        etag: `"${new Bun.CryptoHasher('md5').update(bytes).digest('hex')}"`,
        id,
        createdAt: objects.get(key)?.createdAt ?? now,
        updatedAt: now,
      });
      return Response.json({ Key: `${bucket}/${key}`, Id: id });
    }

    return supabaseError(405, 'method_not_allowed', `${method} is not supported here`, 405);
  }

  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    maxRequestBodySize: 1024 ** 3,
    fetch: (request) => handle(request).catch((error: unknown) => supabaseError(500, 'internal', String(error), 500)),
  });
  const url = `http://127.0.0.1:${server.port}`;
  return {
    url,
    serviceRoleKey,
    bucket,
    objects,
    env: {
      STORAGE_URL: `supabase://${bucket}`,
      SUPABASE_URL: url,
      SUPABASE_SERVICE_ROLE_KEY: serviceRoleKey,
    },
    async close() {
      await server.stop(true);
    },
  };
}
