export * from './handlers.ts';
export * from './run.ts';
export * from './types.ts';
export * from './worker.ts';
