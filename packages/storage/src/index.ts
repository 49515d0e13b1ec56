export { createFileStore, type FileStoreOptions } from './drivers/file.ts';
export { createS3Store, mapS3Error, type S3StoreOptions } from './drivers/s3.ts';
export { createSupabaseStore, mapSupabaseError, type SupabaseStoreOptions } from './drivers/supabase.ts';
export * from './errors.ts';
export * from './keys.ts';
export * from './metadata.ts';
export * from './object-store.ts';
export { openObjectStore } from './open.ts';
export { type Mediaforge, openMediaforge } from './open-mediaforge.ts';
