/**
 * Prometheus metrics at `/metrics`: HTTP traffic and latency, upload bytes and durations from this process, and
 * gauges read from the database at scrape time (tasks and items by status, workers, records and stored bytes), so
 * every API instance reports the same cluster-wide view.
 */
import { ALL_USERS, type Db, listWorkers, queueStats, recordStats, WORKER_OFFLINE_AFTER_MS } from '@mediaforge/core';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { HttpMetrics } from './http-metrics.ts';

export interface ApiMetrics {
  registry: Registry;
  /** The text exposition, with the database-backed gauges read fresh. */
  exposition(): Promise<string>;
  /** HTTP requests and their latency (plain counts per request, prom-client metrics on scrape). */
  http: HttpMetrics;
  uploadBytes: Counter<string>;
  uploads: Counter<'outcome'>;
  uploadDuration: Histogram<string>;
}

export function createMetrics(db: Db): ApiMetrics {
  const registry = new Registry();
  const http = new HttpMetrics(registry);
  const uploadBytes = new Counter({
    name: 'mediaforge_upload_bytes_total',
    help: 'Bytes received in file uploads that were stored',
    registers: [registry],
  });
  const uploads = new Counter({
    name: 'mediaforge_uploads_total',
    help: 'File uploads by outcome (stored, duplicate, rejected)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const uploadDuration = new Histogram({
    name: 'mediaforge_upload_duration_seconds',
    help: 'Time to receive, verify and store an upload',
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
    registers: [registry],
  });

  const tasksGauge = new Gauge({
    name: 'mediaforge_tasks',
    help: 'Tasks by status',
    labelNames: ['status'] as const,
    registers: [registry],
  });
  const itemsGauge = new Gauge({
    name: 'mediaforge_task_items',
    help: 'Task items by status (items of pruned tasks excluded)',
    labelNames: ['status'] as const,
    registers: [registry],
  });
  const workersGauge = new Gauge({
    name: 'mediaforge_workers',
    help: 'Registered workers by state',
    labelNames: ['state'] as const,
    registers: [registry],
  });
  const workerActive = new Gauge({
    name: 'mediaforge_worker_active_items',
    help: 'Items running on each online worker',
    labelNames: ['worker'] as const,
    registers: [registry],
  });
  const workerProcessed = new Gauge({
    name: 'mediaforge_worker_processed_items',
    help: 'Items each online worker has finished since it started',
    labelNames: ['worker'] as const,
    registers: [registry],
  });
  const recordsGauge = new Gauge({
    name: 'mediaforge_records',
    help: 'Records by media type',
    labelNames: ['media_type'] as const,
    registers: [registry],
  });
  const storedBytes = new Gauge({
    name: 'mediaforge_stored_bytes',
    help: 'Bytes of stored files by media type',
    labelNames: ['media_type'] as const,
    registers: [registry],
  });

  // One read of the database per scrape, shared by every database-backed gauge; concurrent scrapes share it too.
  let refreshing: Promise<void> | undefined;
  const read = async () => {
    const [queue, workers, stored] = await Promise.all([
      queueStats(db),
      listWorkers(db, WORKER_OFFLINE_AFTER_MS),
      recordStats(db, ALL_USERS),
    ]);
    for (const [status, n] of Object.entries(queue.tasks)) tasksGauge.set({ status }, n);
    for (const [status, n] of Object.entries(queue.items)) itemsGauge.set({ status }, n);
    workersGauge.reset();
    workerActive.reset();
    workerProcessed.reset();
    for (const state of ['online', 'offline', 'stopped']) {
      workersGauge.set({ state }, workers.filter((worker) => worker.state === state).length);
    }
    for (const worker of workers.filter((w) => w.state === 'online')) {
      workerActive.set({ worker: worker.id }, worker.active);
      workerProcessed.set({ worker: worker.id }, worker.processed);
    }
    for (const [type, totals] of Object.entries(stored.byMediaType)) {
      recordsGauge.set({ media_type: type }, totals.records);
      storedBytes.set({ media_type: type }, totals.bytes);
    }
  };
  const exposition = async () => {
    refreshing ??= read().finally(() => {
      refreshing = undefined;
    });
    await refreshing;
    return registry.metrics();
  };
  return { registry, exposition, http, uploadBytes, uploads, uploadDuration };
}
