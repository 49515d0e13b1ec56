export * from './backoff.ts';
export * from './rerun.ts';
export * from './retry-after.ts';
export * from './transient.ts';
