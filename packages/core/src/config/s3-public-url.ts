/** Where a public S3-compatible bucket serves its objects, derived from the connection settings. */

export interface S3Address {
  bucket: string;
  /** The S3 API endpoint; none means AWS. */
  endpoint?: string;
  region: string;
  /** Path-style addressing (`endpoint/bucket/key`) for endpoints that are neither AWS nor Hetzner. */
  forcePathStyle: boolean;
}

const HETZNER_HOST = /(^|\.)your-objectstorage\.com$/;
const AWS_HOST = /(^|\.)amazonaws\.com(\.cn)?$/;

/** True for AWS S3 endpoints (`s3.eu-central-1.amazonaws.com`, …): virtual-hosted addressing is their default. */
export function isAwsEndpoint(endpoint: string): boolean {
  return AWS_HOST.test(new URL(endpoint).hostname);
}

/**
 * The base URL a public bucket's objects are read from anonymously; an object's URL is `${base}/${key}`.
 * Hetzner and AWS use their virtual-hosted form (the bucket is a subdomain), which is how their consoles show a
 * public object; other endpoints (MinIO, R2, s3rver) follow the path-style setting.
 * @example s3PublicBaseUrl({ bucket: 'corpus-data', endpoint: 'https://hel1.your-objectstorage.com', region: 'hel1',
 *   forcePathStyle: true }) // 'https://corpus-data.hel1.your-objectstorage.com'
 */
export function s3PublicBaseUrl({ bucket, endpoint, region, forcePathStyle }: S3Address): string {
  const name = encodeURIComponent(bucket);
  if (!endpoint) {
    // A bucket name with dots does not match AWS's wildcard certificate as a subdomain: path style for those.
    return bucket.includes('.')
      ? `https://s3.${region}.amazonaws.com/${name}`
      : `https://${name}.s3.${region}.amazonaws.com`;
  }
  const url = new URL(endpoint);
  const base = url.pathname.replace(/\/+$/, '');
  const virtualHosted = HETZNER_HOST.test(url.hostname) || AWS_HOST.test(url.hostname) ? true : !forcePathStyle;
  if (virtualHosted && !bucket.includes('.')) return `${url.protocol}//${name}.${url.host}${base}`;
  return `${url.protocol}//${url.host}${base}/${name}`;
}
