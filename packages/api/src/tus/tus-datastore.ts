/**
 * Where resumable uploads keep their bytes until they complete: the deployment's store. On S3 the TUS S3 store
 * writes a multipart upload under `staging/tus/` in the bucket; on local disk the TUS file store writes under the
 * objects root's `staging/tus/`; Supabase has no TUS store of this library here, so its uploads wait on the API's
 * local disk (`$MEDIAFORGE_HOME/tus`).
 */
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Settings } from '@mediaforge/core';
import { FileStore } from '@tus/file-store';
import { S3Store } from '@tus/s3-store';
import type { DataStore } from '@tus/utils';

export interface TusDatastore {
  store: DataStore;
  /** The complete upload's bytes, for the file pipeline. */
  read(id: string): Promise<ReadableStream<Uint8Array>>;
  /** TUS upload ids are `{prefix}{32 hex}`: the S3 store uses them as keys, so they sit under `staging/tus/`. */
  prefix: string;
  /** What `mediaforge config` and the docs say about it. */
  describe: string;
}

export function openTusDatastore(settings: Settings): TusDatastore {
  const url = new URL(settings.storageUrl);
  const expirationPeriodInMilliseconds = settings.uploads.tusExpiryMs;
  if (url.protocol === 's3:') {
    const { s3 } = settings;
    const bucket = decodeURIComponent(url.hostname || s3.bucket || '');
    const store = new S3Store({
      partSize: s3.partSizeBytes,
      expirationPeriodInMilliseconds,
      // Expiry is swept by the server (cleanUpExpiredUploads), not by bucket lifecycle rules on object tags, which
      // not every S3-compatible service supports (s3rver, some MinIO set-ups).
      useTags: false,
      s3ClientConfig: {
        bucket,
        region: s3.region,
        forcePathStyle: s3.forcePathStyle,
        // As the storage driver: S3-compatible services do not all accept the newer default checksum headers.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
        ...(s3.accessKeyId && s3.secretAccessKey
          ? { credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } }
          : {}),
      },
    });
    return {
      store,
      read: async (id) => webStream(await store.read(id)),
      prefix: 'staging/tus/',
      describe: `s3://${bucket}/staging/tus/`,
    };
  }
  const directory = url.protocol === 'file:' ? join(fileURLToPath(url), 'staging', 'tus') : join(settings.home, 'tus');
  const store = new FileStore({ directory, expirationPeriodInMilliseconds });
  return {
    store,
    read: async (id) => webStream(store.read(id)),
    prefix: '',
    describe: directory,
  };
}

function webStream(stream: Readable): ReadableStream<Uint8Array> {
  return Readable.toWeb(stream) as unknown as ReadableStream<Uint8Array>;
}
