/** Look at the first bytes of a stream without taking them from the caller. */
import { FileSizeExceededError } from '../errors.ts';

export interface Peeked {
  /** At least `size` bytes, or the whole stream when it is shorter. */
  head: Uint8Array;
  /** The complete stream again, head included. */
  stream: ReadableStream<Uint8Array>;
  /** True when `head` is the entire stream. */
  ended: boolean;
}

export async function peekStream(source: ReadableStream<Uint8Array>, size: number): Promise<Peeked> {
  const reader = source.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  let ended = false;
  while (length < size) {
    const { done, value } = await reader.read();
    if (done) {
      ended = true;
      break;
    }
    chunks.push(value);
    length += value.byteLength;
  }
  const head = concatBytes(chunks, length);
  let replayed = false;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!replayed) {
        replayed = true;
        if (head.byteLength > 0) controller.enqueue(head);
        if (ended) controller.close();
        return;
      }
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return { head: head.subarray(0, size), stream, ended };
}

export function concatBytes(chunks: readonly Uint8Array[], length = chunks.reduce((n, c) => n + c.byteLength, 0)) {
  if (chunks.length === 1 && chunks[0]) return chunks[0];
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** Reads a whole stream into memory, refusing to go past `limit` bytes. */
export async function readAll(
  stream: ReadableStream<Uint8Array>,
  limit = Number.POSITIVE_INFINITY,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of stream) {
    length += chunk.byteLength;
    if (length > limit) {
      await stream.cancel().catch(() => {});
      throw new FileSizeExceededError(limit, length, 'Stream');
    }
    chunks.push(chunk);
  }
  return concatBytes(chunks, length);
}

/** A one-chunk stream over bytes already in memory. */
export function streamOfBytes(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (bytes.byteLength > 0) controller.enqueue(bytes);
      controller.close();
    },
  });
}
