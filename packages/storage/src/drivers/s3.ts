/**
 * The S3 driver's entry: the store is built on first use, loading the AWS SDK then (~100 ms of every process start
 * otherwise, paid by every CLI command even with a local-disk store). Addresses (`objectUrl`) need no SDK and are
 * answered at once; every other call waits for the one load. Nothing else changes (s3-store.ts is the driver).
 */
import type { ObjectStore } from '../object-store.ts';
import { mapS3Error, S3_DRIVER } from './s3-errors.ts';
import { s3ObjectUrl } from './s3-object-url.ts';
import type { S3StoreOptions } from './s3-store.ts';

export { mapS3Error, S3_DRIVER, type S3StoreOptions };

export function createS3Store(options: S3StoreOptions): ObjectStore {
  let built: Promise<ObjectStore> | undefined;
  const store = () => {
    built ??= import('./s3-store.ts').then((driver) => driver.buildS3Store(options));
    return built;
  };
  const signedUploadUrl: NonNullable<ObjectStore['signedUploadUrl']> = async (...args) => {
    const s3 = await store();
    return (s3.signedUploadUrl as NonNullable<ObjectStore['signedUploadUrl']>)(...args);
  };
  const putFile: NonNullable<ObjectStore['putFile']> = async (...args) => {
    const s3 = await store();
    return (s3.putFile as NonNullable<ObjectStore['putFile']>)(...args);
  };
  return {
    driver: S3_DRIVER,
    put: async (...args) => (await store()).put(...args),
    putFile,
    get: async (...args) => (await store()).get(...args),
    head: async (...args) => (await store()).head(...args),
    delete: async (...args) => (await store()).delete(...args),
    list: async (...args) => (await store()).list(...args),
    url: async (...args) => (await store()).url(...args),
    signedUploadUrl,
    objectUrl: s3ObjectUrl(options),
    copy: async (...args) => (await store()).copy(...args),
  };
}
