/**
 * `@mediaforge/core/tasks`: the task manager and the views the CLI's `jobs` commands print (per-worker items, dead
 * letters, retries, webhook deliveries), without the barrel: listing tasks does not load generation or ingest.
 */
export * from './dead-letters.ts';
export * from './retry-task.ts';
export * from './task-manager.ts';
export * from './task-reports.ts';
export * from './webhooks/deliveries-view.ts';
