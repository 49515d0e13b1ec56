export * from './records-over-time.ts';
export * from './throughput.ts';
export * from './time-window.ts';
