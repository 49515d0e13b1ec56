export * from './download.ts';
export * from './download-errors.ts';
export * from './guard.ts';
export * from './ip.ts';
export * from './origin-slots.ts';
export * from './pipeline.ts';
export * from './upload.ts';
