export { createFileStore, type FileStoreOptions } from './drivers/file.ts';
export * from './errors.ts';
export * from './keys.ts';
export * from './object-store.ts';
