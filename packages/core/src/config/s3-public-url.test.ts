import { describe, expect, test } from 'bun:test';
import { s3PublicBaseUrl } from './s3-public-url.ts';
import { loadSettings } from './settings.ts';

const load = (env: Record<string, string>) => loadSettings({ env, cwd: '/srv/app' });
const key = 'audio/12345678-1234-5678-9012-123456789012.mp3';

describe('s3PublicBaseUrl', () => {
  test("Hetzner: the virtual-hosted form https://{bucket}.{location}.your-objectstorage.com, whatever the SDK's addressing", () => {
    for (const forcePathStyle of [true, false]) {
      expect(
        s3PublicBaseUrl({
          bucket: 'corpus-data',
          endpoint: 'https://hel1.your-objectstorage.com',
          region: 'hel1',
          forcePathStyle,
        }),
      ).toBe('https://corpus-data.hel1.your-objectstorage.com');
    }
  });

  test('AWS: virtual-hosted on the regional host, path style for dotted bucket names, explicit endpoints too', () => {
    expect(s3PublicBaseUrl({ bucket: 'media', region: 'eu-central-1', forcePathStyle: false })).toBe(
      'https://media.s3.eu-central-1.amazonaws.com',
    );
    expect(s3PublicBaseUrl({ bucket: 'media.example.com', region: 'eu-central-1', forcePathStyle: false })).toBe(
      'https://s3.eu-central-1.amazonaws.com/media.example.com',
    );
    expect(
      s3PublicBaseUrl({
        bucket: 'media',
        endpoint: 'https://s3.us-west-2.amazonaws.com',
        region: 'us-west-2',
        forcePathStyle: true,
      }),
    ).toBe('https://media.s3.us-west-2.amazonaws.com');
  });

  test('a custom endpoint follows the path-style setting and keeps its scheme, port and path', () => {
    const minio = { bucket: 'media', endpoint: 'http://minio.internal:9000/', region: 'us-east-1' };
    expect(s3PublicBaseUrl({ ...minio, forcePathStyle: true })).toBe('http://minio.internal:9000/media');
    expect(s3PublicBaseUrl({ ...minio, forcePathStyle: false })).toBe('http://media.minio.internal:9000');
    expect(
      s3PublicBaseUrl({ bucket: 'media', endpoint: 'https://gw.example/s3', region: 'auto', forcePathStyle: true }),
    ).toBe('https://gw.example/s3/media');
  });
});

describe('settings: the effective public base URL', () => {
  const hetzner = {
    HZ_OBJ_ENDPOINT: 'hel1.your-objectstorage.com',
    HZ_OBJ_BUCKET_NAME: 'corpus-data',
    HZ_OBJ_USE_SSL: 'true',
  };

  test("the seed's HZ_OBJ_* settings with S3_PUBLIC_BUCKET=true give the seed's public file URLs", () => {
    const settings = load({ ...hetzner, S3_PUBLIC_BUCKET: 'true' });
    expect(settings.s3.publicBucket).toBe(true);
    expect(`${settings.s3.publicUrl}/${key}`).toBe(`https://corpus-data.hel1.your-objectstorage.com/${key}`);
    expect(load({ ...hetzner, HZ_OBJ_USE_SSL: 'false', S3_PUBLIC_BUCKET: 'true' }).s3.publicUrl).toBe(
      'http://corpus-data.hel1.your-objectstorage.com',
    );
  });

  test('a private bucket (the default) has no public URL: reads are presigned', () => {
    const settings = load(hetzner);
    expect(settings.s3.publicBucket).toBe(false);
    expect(settings.s3.publicUrl).toBeUndefined();
  });

  test('S3_PUBLIC_URL (a CDN) wins over the derived URL', () => {
    const settings = load({ ...hetzner, S3_PUBLIC_BUCKET: 'true', S3_PUBLIC_URL: 'https://cdn.example.com/m' });
    expect(settings.s3.publicUrl).toBe('https://cdn.example.com/m');
  });

  test("the bucket STORAGE_URL names is the one derived from; AWS's endpoint is virtual-hosted by default", () => {
    const aws = load({ STORAGE_URL: 's3://media', S3_REGION: 'eu-west-1', S3_PUBLIC_BUCKET: 'true' });
    expect(aws.s3.publicUrl).toBe('https://media.s3.eu-west-1.amazonaws.com');
    expect(aws.s3.forcePathStyle).toBe(false);
    const explicit = load({ STORAGE_URL: 's3://media', S3_ENDPOINT: 'https://s3.eu-west-1.amazonaws.com' });
    expect(explicit.s3.forcePathStyle).toBe(false);
  });

  test('a custom endpoint is path style unless S3_FORCE_PATH_STYLE=false says otherwise', () => {
    const minio = { STORAGE_URL: 's3://media', S3_ENDPOINT: 'http://127.0.0.1:9000', S3_PUBLIC_BUCKET: 'true' };
    expect(load(minio).s3.publicUrl).toBe('http://127.0.0.1:9000/media');
    const virtual = load({ ...minio, S3_ENDPOINT: 'http://minio.internal:9000', S3_FORCE_PATH_STYLE: 'false' });
    expect(virtual.s3.forcePathStyle).toBe(false);
    expect(virtual.s3.publicUrl).toBe('http://media.minio.internal:9000');
  });
});
