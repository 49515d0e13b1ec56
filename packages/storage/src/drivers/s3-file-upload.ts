/**
 * Uploads a local file (the pipeline's spool) to S3 without passing its bytes through JavaScript buffers: each
 * request's body is a slice of the file, which the runtime's fetch sends from the page cache. Every request's payload
 * is signed (`x-amz-content-sha256`, which S3 checks against the bytes it receives).
 *
 * A file up to `uploadCutoff` is one PutObject signed with the SHA-256 the caller gives, the file's (the record's
 * identity, computed while it was spooled): nothing reads the file to hash it again, and S3 itself verifies that
 * what it stored is what the record says. A larger file is a multipart upload with `queueSize` parts in flight, each
 * part hashed for its own signature, read through one reused 1 MiB buffer per part in flight, so memory does not grow
 * with the file or the part size (the stream path, ./s3-multipart.ts, forced a collection per part). Any failure or
 * abort aborts the multipart upload, so no partial object becomes visible.
 */
import { open } from 'node:fs/promises';
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { completeUpload, type MultipartParams } from './s3-multipart.ts';
import { type LeanPutFn, objectHeaders } from './s3-put.ts';

interface FileUploadOptions {
  /** The file's SHA-256 (hex): a single PutObject is signed with it. */
  sha256: string;
  /** Files up to this size are one PutObject; larger ones multipart uploads of `partSize` parts. */
  uploadCutoff: number;
  partSize: number;
  queueSize: number;
  signal?: AbortSignal;
  /** Sends PutObject and UploadPart without the SDK client (./s3-put.ts), when the set-up allows it. */
  leanPut?: LeanPutFn;
}

const HASH_READ_BYTES = 1024 * 1024;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Sets the request's payload hash, so the signer signs it instead of hashing a body it cannot read (a file slice). */
function withPayloadHash<C extends PutObjectCommand | UploadPartCommand>(command: C, sha256Hex: string): C {
  type Handler = (args: { request: unknown }) => Promise<unknown>;
  const stack = command.middlewareStack as unknown as {
    add(middleware: (next: Handler) => Handler, options: { step: 'build'; name: string }): void;
  };
  stack.add(
    (next) => (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers) request.headers['x-amz-content-sha256'] = sha256Hex;
      return next(args);
    },
    { step: 'build', name: 'mediaforgePayloadHash' },
  );
  return command;
}

export async function fileUpload(
  client: S3Client,
  params: MultipartParams,
  path: string,
  size: number,
  options: FileUploadOptions,
): Promise<{ etag: string }> {
  const { partSize, uploadCutoff, signal } = options;
  const handle = await open(path, 'r');
  const file = Bun.file(path);
  // Hashing reads each part through one small buffer per part in flight, so memory does not grow with the part size.
  const buffers: Uint8Array[] = [];
  /** Reads `[start, start + length)` and returns its SHA-256 (hex). */
  const hashRange = async (start: number, length: number): Promise<string> => {
    const buffer = buffers.pop() ?? new Uint8Array(Math.min(HASH_READ_BYTES, size));
    const hasher = new Bun.CryptoHasher('sha256');
    try {
      for (let done = 0; done < length; ) {
        const want = Math.min(buffer.byteLength, length - done);
        const { bytesRead } = await handle.read(buffer, 0, want, start + done);
        if (bytesRead === 0) throw new Error(`${path} ended at ${start + done} of ${size} bytes`);
        hasher.update(buffer.subarray(0, bytesRead));
        done += bytesRead;
      }
      return hasher.digest('hex');
    } finally {
      buffers.push(buffer);
    }
  };
  try {
    const { leanPut } = options;
    if (size <= Math.max(partSize, uploadCutoff)) {
      // (A caller's value that is not a SHA-256 at all is not sent: the file is hashed instead.)
      const hash = SHA256_HEX.test(options.sha256) ? options.sha256 : await hashRange(0, size);
      if (leanPut) {
        const headers = objectHeaders(params);
        return await leanPut(params.Key, { body: file, size, sha256: hash, headers, ...(signal ? { signal } : {}) });
      }
      const command = new PutObjectCommand({ ...params, Body: file as never, ContentLength: size });
      const output = await client.send(withPayloadHash(command, hash), { abortSignal: signal });
      return { etag: output.ETag ?? '' };
    }
    return await multipart(client, params, size, options, async (UploadId, partNumber, start, length) => {
      const hash = await hashRange(start, length);
      if (leanPut) {
        const body = file.slice(start, start + length);
        const part = { uploadId: UploadId, partNumber };
        return () => leanPut(params.Key, { body, size: length, sha256: hash, part, ...(signal ? { signal } : {}) });
      }
      const command = new UploadPartCommand({
        Bucket: params.Bucket,
        Key: params.Key,
        UploadId,
        PartNumber: partNumber,
        Body: file.slice(start, start + length) as never,
        ContentLength: length,
      });
      const signed = withPayloadHash(command, hash);
      return async () => {
        const output = await client.send(signed, { abortSignal: signal });
        return { etag: output.ETag ?? '' };
      };
    });
  } finally {
    await handle.close();
  }
}

async function multipart(
  client: S3Client,
  params: MultipartParams,
  size: number,
  { partSize, queueSize, signal }: FileUploadOptions,
  /** Prepares one part (reads and hashes it) and returns the call that sends it. */
  preparePart: (
    uploadId: string,
    partNumber: number,
    start: number,
    length: number,
  ) => Promise<() => Promise<{ etag: string }>>,
): Promise<{ etag: string }> {
  const { UploadId } = await client.send(new CreateMultipartUploadCommand(params), { abortSignal: signal });
  const count = Math.ceil(size / partSize);
  const parts: { ETag: string; PartNumber: number }[] = [];
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (next < count && !failed) {
      const index = next++;
      if (signal?.aborted) throw signal.reason ?? new Error('aborted');
      const start = index * partSize;
      const send = await preparePart(UploadId ?? '', index + 1, start, Math.min(partSize, size - start));
      const { etag } = await send();
      parts.push({ ETag: etag, PartNumber: index + 1 });
    }
  };
  try {
    const lanes = Array.from({ length: Math.min(queueSize, count) }, () =>
      lane().catch((error: unknown) => {
        failed = true;
        throw error;
      }),
    );
    const settled = await Promise.allSettled(lanes);
    const rejected = settled.find((result) => result.status === 'rejected');
    if (rejected) throw rejected.reason;
    return await completeUpload(client, params, UploadId, parts, signal);
  } catch (error) {
    await client
      .send(new AbortMultipartUploadCommand({ Bucket: params.Bucket, Key: params.Key, UploadId }))
      .catch(() => {});
    throw error;
  }
}
