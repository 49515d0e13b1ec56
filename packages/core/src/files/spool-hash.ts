/**
 * SHA-256 of a large spool, off the event loop (decision 0049). Hashing on the thread that receives the bytes cost
 * ~1 s of it per GiB uploaded through `serve` (`CryptoHasher.update` was the largest item in the profile): the one
 * thread that answers every request. Here the spool tells a worker thread how far the file is written, and the
 * thread reads those bytes back from the page cache and hashes them while the rest still arrives; at the end the
 * digest waits only for what the thread has not read yet.
 *
 * One thread per process, started on first use and never keeping the process alive while idle. Where no worker
 * thread can start (a `bun build --compile` executable lacks its module), `follow` returns undefined and the caller
 * hashes on its own thread as before. Small bodies never come here: a message round trip costs more than hashing them.
 */
import type { HashReply, HashRequest } from './spool-hash-worker.ts';

export interface SpoolHash {
  /** The spool now holds `size` bytes, written and readable. */
  grown(size: number): void;
  /** The SHA-256 (hex) of the spool's first `size` bytes. @throws when the thread could not read them */
  digest(size: number): Promise<string>;
  /** Gives the spool up without a digest (the spool failed or is being removed). */
  close(): void;
}

export interface SpoolHasher {
  /** Starts hashing the spool at `path` (already created); undefined when no hashing thread can run here. */
  follow(path: string): Promise<SpoolHash | undefined>;
}

interface Follower {
  failure?: Error;
  waiting?: { resolve: (sha256: string) => void; reject: (error: Error) => void };
}

/** Bun's Worker, which can stop and start keeping the process alive. */
type RefWorker = Worker & { ref(): void; unref(): void };

interface Thread {
  worker: RefWorker;
  ready: Promise<boolean>;
  followers: Map<number, Follower>;
}

export function createSpoolHasher(
  workerUrl: string | URL = new URL('./spool-hash-worker.ts', import.meta.url),
): SpoolHasher {
  let thread: Thread | undefined;
  /** False once the worker's module failed to load: no thread will ever start in this process. */
  let available = true;
  let nextId = 1;

  const settle = (follower: Follower, error: Error) => {
    follower.failure ??= error;
    follower.waiting?.reject(follower.failure);
    follower.waiting = undefined;
  };

  const start = (): Thread | undefined => {
    let worker: RefWorker;
    try {
      worker = new Worker(workerUrl, { ref: false } as WorkerOptions) as RefWorker;
    } catch {
      available = false;
      return undefined;
    }
    const started: Thread = { worker, ready: Promise.resolve(false), followers: new Map() };
    started.ready = new Promise<boolean>((resolveReady) => {
      worker.onmessage = (event: MessageEvent<HashReply>) => {
        const reply = event.data;
        if (reply.type === 'ready') return resolveReady(true);
        const follower = started.followers.get(reply.id);
        if (!follower) return;
        started.followers.delete(reply.id);
        if (started.followers.size === 0) worker.unref();
        if (reply.type === 'digest') follower.waiting?.resolve(reply.sha256);
        else settle(follower, new Error(`hashing the spool failed: ${reply.message}`));
      };
      worker.onerror = (event) => {
        // Before `ready` the module could not load; after it this thread is done for, and the next spool starts one.
        resolveReady(false);
        worker.terminate();
        if (thread === started) thread = undefined;
        for (const follower of started.followers.values())
          settle(follower, new Error(`hashing thread crashed: ${event.message}`));
        started.followers.clear();
      };
    });
    return started;
  };

  return {
    async follow(path) {
      if (!available) return undefined;
      thread ??= start();
      const current = thread;
      if (!current) return undefined;
      if (!(await current.ready)) {
        available = false;
        if (thread === current) thread = undefined;
        return undefined;
      }
      const id = nextId++;
      const follower: Follower = {};
      current.followers.set(id, follower);
      // Held while a spool is followed, so that a process waiting only for a digest is not ended under it.
      current.worker.ref();
      const send = (request: HashRequest) => {
        if (current.followers.has(id)) current.worker.postMessage(request);
      };
      send({ type: 'open', id, path });
      return {
        grown: (size) => send({ type: 'grow', id, size }),
        digest(size) {
          if (follower.failure) return Promise.reject(follower.failure);
          if (!current.followers.has(id)) return Promise.reject(new Error('the spool is no longer hashed'));
          return new Promise<string>((resolve, reject) => {
            follower.waiting = { resolve, reject };
            send({ type: 'end', id, size });
          });
        },
        close() {
          if (!current.followers.has(id)) return;
          send({ type: 'close', id });
          current.followers.delete(id);
          if (current.followers.size === 0) current.worker.unref();
        },
      };
    },
  };
}

/** The process's hasher, started on first use. */
export const spoolHasher = createSpoolHasher();
