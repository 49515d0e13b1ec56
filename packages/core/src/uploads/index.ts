export * from './direct-upload.ts';
export * from './reclaim-uploads.ts';
export * from './staged-uploads.ts';
