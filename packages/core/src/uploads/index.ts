export * from './direct-upload.ts';
export * from './staged-uploads.ts';
