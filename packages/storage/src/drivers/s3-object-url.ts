/** Where an S3 object is found (the record's `file_url`), without the SDK: shared by the store and its facade (s3.ts). */
import { s3PublicBaseUrl } from '@mediaforge/core';
import { validateKey } from '../keys.ts';
import { S3_DRIVER } from './s3-errors.ts';

export interface S3Addressing {
  bucket: string;
  region?: string;
  endpoint?: string;
  forcePathStyle?: boolean;
  publicBaseUrl?: string;
  publicBucket?: boolean;
}

/** The public base URL of the bucket's objects, if it has one (`publicBaseUrl`, or derived for a public bucket). */
export function s3PublicBase(options: S3Addressing): string | undefined {
  const forcePathStyle = options.forcePathStyle ?? Boolean(options.endpoint);
  return (
    options.publicBaseUrl ??
    (options.publicBucket
      ? s3PublicBaseUrl({
          bucket: options.bucket,
          region: options.region ?? 'us-east-1',
          forcePathStyle,
          ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        })
      : undefined)
  )?.replace(/\/+$/, '');
}

/**
 * The object's address: its public URL, or for a private bucket the stable `s3://bucket/key` reference — a presigned
 * URL would expire and carry a signature, so it is made at read time.
 */
export function s3ObjectUrl(options: S3Addressing, publicBase = s3PublicBase(options)): (key: string) => string {
  return (key) => {
    validateKey(S3_DRIVER, key);
    return publicBase ? `${publicBase}/${encodeKey(key)}` : `s3://${options.bucket}/${key}`;
  };
}

/** Keys are `type/uid.ext` today; encoding each segment keeps any other key a valid URL path. */
function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}
