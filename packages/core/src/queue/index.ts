export * from './queue.ts';
export { type Executor, rows } from './rows.ts';
export * from './statements.ts';
export * from './task-manager.ts';
export * from './task-reports.ts';
export * from './workers.ts';
