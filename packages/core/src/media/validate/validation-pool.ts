/**
 * Container validation on worker threads (issue 18): a hostile file's walk runs beside the caller's event loop, so an
 * API process keeps answering `/health` and every other request meanwhile. A small pool, started on first use and
 * unref'd (it never keeps a process alive). Where no worker thread can start — a `bun build --compile` executable
 * lacks the worker's module — the walk runs in-process, where the parsers' pacing yields every 20 ms.
 */
import { availableParallelism } from 'node:os';
import { createSlots } from '../slots.ts';
import { type ContainerValidator, validateContainer } from './containers.ts';
import type { FormatInfo } from './media-info.ts';
import { pace } from './pace.ts';
import { FormatProblem } from './problem.ts';
import type { FailureKind, ValidationReply, ValidationRequest } from './validation-messages.ts';

/** Worker threads: two at most, so validation never takes every core from the request thread and the image decoder. */
export const VALIDATION_THREADS = Math.max(1, Math.min(2, availableParallelism()));

/** Bytes in memory up to this size are walked on the caller's thread (at most ~0.6 ms of its time). */
export const INLINE_BYTES = 64 * 1024;

/** Walks that may wait for a thread; past it, OverloadedError (code OVERLOADED, retry after 2 s). */
export const VALIDATION_QUEUE = 64;

/**
 * Past this, a walk is abandoned and its thread replaced: 10 s plus 2 s per MB. Every parser is linear in the file's
 * bytes (about 1 s per 100 MB here), so only a parser bug reaches it; the file is then refused rather than trusted.
 */
export const validationTimeoutMs = (size: number) => 10_000 + (2_000 * size) / 1_000_000;

interface Thread {
  worker: Worker;
  /** False when the worker never loaded. */
  ready: Promise<boolean>;
  dead: boolean;
  pending?: { id: number; resolve: (info: FormatInfo) => void; reject: (error: Error) => void };
}

let nextId = 1;

/** Copying to the thread goes a mebibyte at a time: a large file copies in many short slices, not one long stall. */
const COPY_SLICE = 1024 * 1024;

/** A copy of just these bytes (a view may share a larger buffer), made without holding the event loop. */
async function pacedCopy(data: Uint8Array): Promise<Uint8Array> {
  const copy = new Uint8Array(data.byteLength);
  for (let offset = 0; offset < data.byteLength; offset += COPY_SLICE) {
    copy.set(data.subarray(offset, offset + COPY_SLICE), offset);
    await pace();
  }
  return copy;
}

function rebuild(kind: FailureKind, message: string): Error {
  if (kind === 'problem') return new FormatProblem(message);
  if (kind === 'range') return new RangeError(message);
  return new Error(`validation thread failed: ${message}`);
}

function startThread(workerUrl: string | URL): Thread | undefined {
  let worker: Worker;
  try {
    // ref: false: an idle pool never keeps the process alive. (smol would halve the heap and double the walk time.)
    worker = new Worker(workerUrl, { ref: false });
  } catch {
    return undefined;
  }
  const thread: Thread = { worker, ready: Promise.resolve(false), dead: false };
  thread.ready = new Promise<boolean>((resolveReady) => {
    worker.onmessage = (event: MessageEvent<ValidationReply>) => {
      const reply = event.data;
      if (reply.type === 'ready') return resolveReady(true);
      const pending = thread.pending;
      if (!pending || pending.id !== reply.id) return;
      thread.pending = undefined;
      if (reply.type === 'done') pending.resolve(reply.info);
      else pending.reject(rebuild(reply.kind, reply.message));
    };
    worker.onerror = (event) => {
      // Before `ready`, the module could not load: no threads in this process. After it, this thread is done for.
      resolveReady(false);
      thread.dead = true;
      worker.terminate();
      thread.pending?.reject(new Error(`validation thread crashed: ${event.message}`));
      thread.pending = undefined;
    };
  });
  return thread;
}

async function runOnThread(
  thread: Thread,
  validator: ContainerValidator,
  data: Uint8Array | Blob,
  idle: Thread[],
): Promise<FormatInfo> {
  const id = nextId++;
  const size = data instanceof Uint8Array ? data.byteLength : data.size;
  let timer: Timer | undefined;
  let healthy = true;
  // The thread gets its own copy, moved rather than cloned; the caller keeps its bytes.
  const payload = data instanceof Uint8Array ? await pacedCopy(data) : data;
  try {
    return await new Promise<FormatInfo>((resolve, reject) => {
      thread.pending = { id, resolve, reject };
      timer = setTimeout(() => {
        healthy = false;
        thread.worker.terminate();
        const seconds = Math.round(validationTimeoutMs(size) / 1000);
        reject(
          new FormatProblem(`checking the structure did not finish within ${seconds} s; it is too costly to trust`),
        );
      }, validationTimeoutMs(size));
      const request: ValidationRequest = { id, validator, data: payload };
      thread.worker.postMessage(request, payload instanceof Uint8Array ? [payload.buffer] : []);
    });
  } catch (error) {
    if (!(error instanceof FormatProblem || error instanceof RangeError)) healthy = false;
    throw error;
  } finally {
    clearTimeout(timer);
    if (healthy && !thread.dead) idle.push(thread);
  }
}

export interface ValidationPool {
  /**
   * Validates `data` on a worker thread (in-process and paced where threads are unavailable).
   * @throws FormatProblem / RangeError as the in-process walk would; OverloadedError when every thread and queue place is taken.
   */
  validate(validator: ContainerValidator, data: Uint8Array | Blob): Promise<FormatInfo>;
  /** Whether walks run on worker threads (false once a worker failed to load). */
  readonly threaded: boolean;
}

export function createValidationPool(
  workerUrl: string | URL = new URL('./validation-worker.ts', import.meta.url),
): ValidationPool {
  const slots = createSlots({
    name: 'Media validation',
    limit: VALIDATION_THREADS,
    queue: VALIDATION_QUEUE,
    retryAfterSeconds: 2,
  });
  const idle: Thread[] = [];
  let threaded = true;
  const acquire = async () => {
    let thread = idle.pop();
    while (thread?.dead) thread = idle.pop();
    thread ??= startThread(workerUrl);
    if (thread && (await thread.ready)) return thread;
    threaded = false;
    return undefined;
  };
  return {
    validate: (validator, data) =>
      // A walk of a few KiB takes well under a millisecond (linear, ~1 s per 100 MB): a thread hop costs more.
      data instanceof Uint8Array && data.byteLength <= INLINE_BYTES
        ? validateContainer(validator, data)
        : slots.run(async () => {
            const thread = threaded ? await acquire() : undefined;
            return thread ? runOnThread(thread, validator, data, idle) : validateContainer(validator, data);
          }),
    get threaded() {
      return threaded;
    },
  };
}

/** The process's pool, started on first use. */
export const validationPool = createValidationPool();
