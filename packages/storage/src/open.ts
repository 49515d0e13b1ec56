/** Chooses and builds the ObjectStore that `STORAGE_URL` names: `file://path`, `s3://bucket` or `supabase://bucket`. */
import { fileURLToPath } from 'node:url';
import { ConfigError, type Settings } from '@mediaforge/core';
import { createFileStore } from './drivers/file.ts';
import { createS3Store } from './drivers/s3.ts';
import { createSupabaseStore } from './drivers/supabase.ts';
import type { ObjectStore } from './object-store.ts';

export function openObjectStore(settings: Pick<Settings, 'storageUrl' | 's3' | 'supabase'>): ObjectStore {
  const url = new URL(settings.storageUrl);
  const bucketOf = (fallback?: string) => decodeURIComponent(url.hostname || fallback || '');
  switch (url.protocol) {
    case 'file:':
      return createFileStore({ root: fileURLToPath(url) });
    case 's3:': {
      const bucket = bucketOf(settings.s3.bucket);
      if (!bucket) throw missingBucket('s3://corpus-data');
      const { s3 } = settings;
      return createS3Store({
        bucket,
        region: s3.region,
        ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
        ...(s3.accessKeyId ? { accessKeyId: s3.accessKeyId } : {}),
        ...(s3.secretAccessKey ? { secretAccessKey: s3.secretAccessKey } : {}),
        forcePathStyle: s3.forcePathStyle,
        partSizeBytes: s3.partSizeBytes,
        uploadCutoffBytes: s3.uploadCutoffBytes,
        requestTimeoutMs: s3.requestTimeoutMs,
        ...(s3.publicUrl ? { publicBaseUrl: s3.publicUrl } : {}),
      });
    }
    case 'supabase:': {
      const bucket = bucketOf(settings.supabase.bucket);
      const { url: projectUrl, serviceRoleKey } = settings.supabase;
      if (!bucket) throw missingBucket('supabase://media');
      if (!projectUrl || !serviceRoleKey) {
        throw new ConfigError('Invalid configuration: SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY are required.', [
          { variable: 'SUPABASE_URL', problem: 'is required for a supabase:// STORAGE_URL' },
        ]);
      }
      return createSupabaseStore({
        url: projectUrl,
        serviceRoleKey,
        bucket,
        publicBucket: settings.supabase.publicBucket,
      });
    }
    default:
      throw new ConfigError(`Invalid configuration: STORAGE_URL scheme ${url.protocol} is not supported.`, [
        { variable: 'STORAGE_URL', problem: 'must start with file:, s3: or supabase:' },
      ]);
  }
}

function missingBucket(example: string): ConfigError {
  return new ConfigError(`Invalid configuration: STORAGE_URL must name a bucket, e.g. ${example}.`, [
    { variable: 'STORAGE_URL', problem: `must name a bucket, e.g. ${example}` },
  ]);
}
