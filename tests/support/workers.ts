/** In-process workers for queue tests: short leases and polls, all stopped by `stopAll` between tests. */
import { createLogger } from '@mediaforge/core';
import type { BackendHandle } from '@mediaforge/core/testing';
import { type Handler, Worker } from '@mediaforge/worker';

type WorkerOptions = ConstructorParameters<typeof Worker>[0];

export function workerStarter(backend: BackendHandle, defaults: Partial<WorkerOptions> = {}) {
  const started: Worker[] = [];
  return {
    async start(handlers: Record<string, Handler>, extra: Partial<WorkerOptions> = {}): Promise<Worker> {
      const worker = new Worker({
        database: backend.database(),
        logger: createLogger({ level: 'silent' }),
        handlers,
        leaseMs: 2000,
        pollMs: 50,
        ...defaults,
        ...extra,
      });
      await worker.start();
      started.push(worker);
      return worker;
    },
    stopAll: () => Promise.all(started.splice(0).map((worker) => worker.stop({ graceMs: 0 }))),
  };
}
