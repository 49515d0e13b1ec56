/**
 * Streaming multipart upload with a fixed pool of part buffers. The body is copied into `queueSize + 1` reusable
 * buffers of `partSize` bytes, at most `queueSize` parts are in flight, and a new part is read only when a buffer
 * is free — so memory is bounded by the pool whatever the object's size. (`@aws-sdk/lib-storage` concatenates a
 * new buffer per part; under Bun its peak grew with the object, past 300 MiB for 1 GiB.) A body that fits in one
 * part is sent with a single PutObject, before any part buffer is allocated. After each part the garbage the HTTP
 * stack made of it is collected. Any failure or abort aborts the multipart upload, so no partial object
 * ever becomes visible.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';

export interface MultipartParams {
  Bucket: string;
  Key: string;
  ContentType: string;
  Metadata: Record<string, string>;
  CacheControl?: string;
}

/** Completes a multipart upload from its parts (in any order); the object becomes visible now. */
export async function completeUpload(
  client: S3Client,
  params: MultipartParams,
  uploadId: string | undefined,
  parts: { ETag: string; PartNumber: number }[],
  signal: AbortSignal | undefined,
): Promise<{ etag: string }> {
  const output = await client.send(
    new CompleteMultipartUploadCommand({
      Bucket: params.Bucket,
      Key: params.Key,
      UploadId: uploadId,
      MultipartUpload: { Parts: parts.sort((a, b) => a.PartNumber - b.PartNumber) },
    }),
    { abortSignal: signal },
  );
  return { etag: output.ETag ?? '' };
}

export async function streamUpload(
  client: S3Client,
  params: MultipartParams,
  body: ReadableStream<Uint8Array>,
  options: { partSize: number; queueSize: number; signal?: AbortSignal },
): Promise<{ etag: string; size: number }> {
  const { partSize, queueSize, signal } = options;
  const reader = body.getReader();
  let pending: Uint8Array | undefined;
  let size = 0;

  // Read up to one part before allocating anything: a small body goes up as one PutObject of exactly its bytes.
  // (Allocating the pool first cost (queueSize + 1) × partSize per put: 16 concurrent 16 KiB ingests to S3 peaked
  // at 1 GiB RSS.)
  const head: Uint8Array[] = [];
  let headBytes = 0;
  while (headBytes < partSize) {
    if (signal?.aborted) {
      await reader.cancel().catch(() => {});
      throw signal.reason ?? new Error('aborted');
    }
    const { done, value } = await reader.read();
    if (done) break;
    head.push(value);
    headBytes += value.byteLength;
  }
  if (headBytes < partSize) {
    const output = await client.send(new PutObjectCommand({ ...params, Body: Buffer.concat(head, headBytes) }), {
      abortSignal: signal,
    });
    return { etag: output.ETag ?? '', size: headBytes };
  }

  // The pool grows to `queueSize + 1` buffers only as parts need them.
  const free: Uint8Array[] = [];
  let allocated = 0;
  const hasBuffer = () => free.length > 0 || allocated < queueSize + 1;
  const takeBuffer = (): Uint8Array => {
    const buffer = free.pop();
    if (buffer) return buffer;
    allocated += 1;
    return new Uint8Array(partSize);
  };

  /** Fills one buffer from the stream; returns the filled length (0 at the end). */
  async function fill(buffer: Uint8Array): Promise<number> {
    let filled = 0;
    while (filled < partSize) {
      if (signal?.aborted) throw signal.reason ?? new Error('aborted');
      if (!pending || pending.byteLength === 0) {
        pending = head.shift();
        if (!pending) {
          const { done, value } = await reader.read();
          if (done) break;
          pending = value;
        }
      }
      const take = Math.min(partSize - filled, pending.byteLength);
      buffer.set(pending.subarray(0, take), filled);
      pending = pending.subarray(take);
      filled += take;
    }
    size += filled;
    return filled;
  }

  const first = takeBuffer();
  const firstLength = await fill(first);

  const { UploadId } = await client.send(new CreateMultipartUploadCommand(params), { abortSignal: signal });
  const parts: { ETag: string; PartNumber: number }[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  const send = (buffer: Uint8Array, length: number, partNumber: number) => {
    const task = client
      .send(
        new UploadPartCommand({
          Bucket: params.Bucket,
          Key: params.Key,
          UploadId,
          PartNumber: partNumber,
          Body: buffer.subarray(0, length),
          ContentLength: length,
        }),
        { abortSignal: signal },
      )
      .then((output) => {
        parts.push({ ETag: output.ETag ?? '', PartNumber: partNumber });
        free.push(buffer);
        // The HTTP stack copies each part's body, and the runtime does not count those copies towards its GC
        // pressure, so they pile up (1 GiB put: 186 MiB peak without this, 137 MiB with it; BENCHMARKS.md).
        // A full collection per finished part (every partSize bytes) costs a few milliseconds.
        Bun.gc(true);
      })
      .catch((error: unknown) => {
        failure ??= error;
      })
      .finally(() => inFlight.delete(task));
    inFlight.add(task);
  };

  try {
    let partNumber = 1;
    send(first, firstLength, partNumber);
    for (;;) {
      while (!hasBuffer() && !failure) await Promise.race(inFlight);
      if (failure) throw failure;
      if (signal?.aborted) throw signal.reason ?? new Error('aborted');
      const buffer = takeBuffer();
      const length = await fill(buffer);
      if (length === 0) break;
      partNumber += 1;
      send(buffer, length, partNumber);
      if (length < partSize) break;
    }
    await Promise.all(inFlight);
    if (failure) throw failure;
    const { etag } = await completeUpload(client, params, UploadId, parts, signal);
    return { etag, size };
  } catch (error) {
    await Promise.allSettled(inFlight);
    await client
      .send(new AbortMultipartUploadCommand({ Bucket: params.Bucket, Key: params.Key, UploadId }))
      .catch(() => {});
    await reader.cancel().catch(() => {});
    throw error;
  }
}
