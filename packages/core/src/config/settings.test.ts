import { describe, expect, test } from 'bun:test';
import { ConfigError } from '../errors.ts';
import { describeSettings } from './mask.ts';
import { loadSettings } from './settings.ts';

const load = (env: Record<string, string>) => loadSettings({ env, cwd: '/srv/app' });

function configError(env: Record<string, string>): ConfigError {
  try {
    load(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadSettings', () => {
  test('defaults: embedded database, local objects under MEDIAFORGE_HOME, seed limits', () => {
    const settings = load({});
    expect(settings.databaseUrl).toBeUndefined();
    expect(settings.home).toBe('/srv/app/.mediaforge');
    expect(settings.storageUrl).toBe('file:///srv/app/.mediaforge/objects');
    expect(settings.maxFileSizeMb).toBe(50);
    expect(settings.maxFileSizeBytes).toBe(50 * 1024 * 1024);
    expect(settings.taskTimeoutMinutes).toBe(30);
    expect(settings.taskSoftTimeoutMinutes).toBe(25);
    expect(settings.taskRetentionDays).toBe(7);
    expect(settings.logLevel).toBe('info');
    expect(settings.api).toEqual({
      host: '127.0.0.1',
      port: 8080,
      corsOrigins: [],
      rateLimitPerMinute: 1200,
      maxJsonBytes: 1024 * 1024,
      idleTimeoutSeconds: 30,
      bodyTimeoutMs: 30_000,
      bodyMinBytesPerSecond: 1024,
      maxAnonymousRequests: 256,
      maxUploadsPerKey: 4,
      maxUploads: 64,
      maxDownloadsPerKey: 32,
      maxJsonRequestsPerKey: 8,
      trustedProxies: [],
      maxActiveTasksPerUser: 20,
      allowedQueues: [],
    });
  });

  test('download timeouts, download retries and item retry backoff: defaults, overrides, refusals', () => {
    expect(load({}).download).toEqual({
      connectMs: 10_000,
      idleMs: 30_000,
      minBytesPerSecond: 16 * 1024,
      retries: 3,
      perOrigin: 4,
    });
    expect(load({}).taskRetry).toEqual({ baseMs: 2000, maxMs: 300_000 });
    expect(load({ TASK_RETRY_BASE_SECONDS: '0.5', TASK_RETRY_MAX_SECONDS: '10' }).taskRetry).toEqual({
      baseMs: 500,
      maxMs: 10_000,
    });
    expect(
      load({
        DOWNLOAD_TIMEOUT_SECONDS: '2.5',
        DOWNLOAD_CONNECT_TIMEOUT_SECONDS: '1',
        DOWNLOAD_RETRIES: '6',
        DOWNLOAD_MIN_SPEED_KBPS: '0',
      }).download,
    ).toEqual({ connectMs: 1000, idleMs: 2500, minBytesPerSecond: 0, retries: 6, perOrigin: 4 });
    const error = configError({ DOWNLOAD_TIMEOUT_SECONDS: '0', DOWNLOAD_RETRIES: '1.5' });
    expect(error.message).toContain('DOWNLOAD_TIMEOUT_SECONDS');
    expect(error.message).toContain('DOWNLOAD_RETRIES');
  });

  test('API settings: port range, CORS list, limits', () => {
    const settings = load({
      API_HOST: '0.0.0.0',
      API_PORT: '0',
      API_CORS_ORIGINS: 'https://a.example, https://b.example',
      API_RATE_LIMIT_PER_MINUTE: '30',
      API_MAX_JSON_KB: '64',
    });
    expect(settings.api).toMatchObject({
      host: '0.0.0.0',
      port: 0,
      corsOrigins: ['https://a.example', 'https://b.example'],
      rateLimitPerMinute: 30,
      maxJsonBytes: 64 * 1024,
    });
    const error = configError({ API_PORT: '70000', API_RATE_LIMIT_PER_MINUTE: '0' });
    expect(error.issues.map((issue) => issue.variable).sort()).toEqual(['API_PORT', 'API_RATE_LIMIT_PER_MINUTE']);
  });

  test('reads every variable and coerces types', () => {
    const settings = load({
      DATABASE_URL: 'postgres://u:p@db:5432/app',
      STORAGE_URL: 's3://media',
      S3_ENDPOINT: 'http://127.0.0.1:9000',
      S3_FORCE_PATH_STYLE: 'true',
      MAX_FILE_SIZE_MB: '2.5',
      MAX_BATCH_SIZE: '10',
      LOG_LEVEL: 'DEBUG',
      MEDIAFORGE_HOME: '/var/lib/mf',
    });
    expect(settings.databaseUrl).toBe('postgres://u:p@db:5432/app');
    expect(settings.storageUrl).toBe('s3://media');
    expect(settings.s3.forcePathStyle).toBe(true);
    expect(settings.maxFileSizeBytes).toBe(Math.floor(2.5 * 1024 * 1024));
    expect(settings.maxBatchSize).toBe(10);
    expect(settings.logLevel).toBe('debug');
    expect(settings.home).toBe('/var/lib/mf');
  });

  test("the seed's HZ_OBJ_* variables configure S3 and make it the default store", () => {
    const settings = load({
      HZ_OBJ_ENDPOINT: 'hel1.your-objectstorage.com',
      HZ_OBJ_ACCESS_KEY: 'AK',
      HZ_OBJ_SECRET_KEY: 'SK',
      HZ_OBJ_BUCKET_NAME: 'corpus-data',
      HZ_OBJ_USE_SSL: 'true',
    });
    expect(settings.storageUrl).toBe('s3://corpus-data');
    expect(settings.s3).toEqual({
      endpoint: 'https://hel1.your-objectstorage.com',
      region: 'hel1',
      accessKeyId: 'AK',
      secretAccessKey: 'SK',
      bucket: 'corpus-data',
      // Path style is what the S3 driver uses with any endpoint, so that is what settings (and `config`) say.
      forcePathStyle: true,
      partSizeBytes: 8 * 1024 * 1024,
      uploadCutoffBytes: 200 * 1024 * 1024,
      requestTimeoutMs: 120_000,
      publicBucket: false,
    });
    expect(load({ HZ_OBJ_ENDPOINT: 'minio:9000', HZ_OBJ_USE_SSL: 'false' }).s3.endpoint).toBe('http://minio:9000');
  });

  test('MEDIAFORGE_ALLOW_HOSTS is a comma-separated list of hosts', () => {
    expect(load({ MEDIAFORGE_ALLOW_HOSTS: 'media.internal, 10.0.0.5,,' }).allowHosts).toEqual([
      'media.internal',
      '10.0.0.5',
    ]);
    expect(load({}).allowHosts).toEqual([]);
  });

  test('S3_* wins over the HZ_OBJ_* aliases', () => {
    const settings = load({
      S3_BUCKET: 'primary',
      HZ_OBJ_BUCKET_NAME: 'alias',
      S3_ACCESS_KEY_ID: 'a',
      HZ_OBJ_ACCESS_KEY: 'b',
    });
    expect(settings.s3.bucket).toBe('primary');
    expect(settings.s3.accessKeyId).toBe('a');
  });

  test('one error names every bad variable and why', () => {
    const error = configError({
      DATABASE_URL: 'nonsense',
      MAX_FILE_SIZE_MB: '-1',
      MAX_BATCH_SIZE: '1.5',
      LOG_LEVEL: 'loud',
      S3_FORCE_PATH_STYLE: 'maybe',
    });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.issues.map((i) => i.variable).sort()).toEqual([
      'DATABASE_URL',
      'LOG_LEVEL',
      'MAX_BATCH_SIZE',
      'MAX_FILE_SIZE_MB',
      'S3_FORCE_PATH_STYLE',
    ]);
    expect(error.message).toContain('MAX_FILE_SIZE_MB must be a positive number (got "-1")');
    expect(error.message).toContain('DATABASE_URL must be a URL starting with postgres:');
  });

  test('secret values are never echoed in errors', () => {
    const error = configError({ DATABASE_URL: 'mysql://root:hunter2@db/x', S3_ENDPOINT: 'ftp://x' });
    expect(error.message).not.toContain('hunter2');
    expect(error.message).toContain('S3_ENDPOINT');
  });

  test('cross-field rules: soft timeout below hard timeout, supabase needs its credentials', () => {
    expect(configError({ TASK_SOFT_TIMEOUT_MINUTES: '30', TASK_TIMEOUT_MINUTES: '30' }).message).toContain(
      'TASK_SOFT_TIMEOUT_MINUTES must be less than TASK_TIMEOUT_MINUTES',
    );
    const supabase = configError({ STORAGE_URL: 'supabase://media' });
    expect(supabase.issues.map((i) => i.variable)).toEqual(['SUPABASE_URL', 'SUPABASE_SERVICE_ROLE_KEY']);
  });

  test('every setting that drives a timer is refused past what a timer holds (2^31 − 1 ms)', () => {
    const error = configError({
      TASK_TIMEOUT_MINUTES: '40000',
      TASK_SOFT_TIMEOUT_MINUTES: '39999',
      DOWNLOAD_TIMEOUT_SECONDS: '3000000',
      DOWNLOAD_CONNECT_TIMEOUT_SECONDS: '3000000',
      TASK_RETRY_BASE_SECONDS: '3000000',
      TASK_RETRY_MAX_SECONDS: '3000000',
      API_BODY_TIMEOUT_SECONDS: '3000000',
      API_IDLE_TIMEOUT_SECONDS: '256',
    });
    expect(error.issues.map((i) => i.variable).sort()).toEqual([
      'API_BODY_TIMEOUT_SECONDS',
      'API_IDLE_TIMEOUT_SECONDS',
      'DOWNLOAD_CONNECT_TIMEOUT_SECONDS',
      'DOWNLOAD_TIMEOUT_SECONDS',
      'TASK_RETRY_BASE_SECONDS',
      'TASK_RETRY_MAX_SECONDS',
      'TASK_SOFT_TIMEOUT_MINUTES',
      'TASK_TIMEOUT_MINUTES',
    ]);
    expect(error.message).toContain('TASK_TIMEOUT_MINUTES must be at most 35791');
    // The longest values a timer holds still load.
    const settings = load({ TASK_TIMEOUT_MINUTES: '35791', DOWNLOAD_TIMEOUT_SECONDS: '2147483' });
    expect(settings.taskTimeoutMinutes * 60_000).toBeLessThanOrEqual(2 ** 31 - 1);
    expect(settings.download.idleMs).toBeLessThanOrEqual(2 ** 31 - 1);
  });

  test('numbers are plain decimals: hex, exponents and signs are refused, and so are tiny file sizes', () => {
    for (const value of ['0x10', '1e-7', '1E3', '+5', ' 5', '5.', 'Infinity']) {
      expect(configError({ MAX_FILE_SIZE_MB: value }).issues.map((i) => i.variable)).toEqual(['MAX_FILE_SIZE_MB']);
    }
    expect(configError({ MAX_FILE_SIZE_MB: '0.0000001' }).message).toContain('MAX_FILE_SIZE_MB must be at least');
    expect(load({ MAX_FILE_SIZE_MB: '0.5' }).maxFileSizeBytes).toBe(512 * 1024);
  });

  test("S3_UPLOAD_CUTOFF_MB: one PutObject up to it, never above S3's 5 GiB", () => {
    expect(load({ S3_UPLOAD_CUTOFF_MB: '64' }).s3.uploadCutoffBytes).toBe(64 * 1024 * 1024);
    expect(load({ S3_UPLOAD_CUTOFF_MB: '5120' }).s3.uploadCutoffBytes).toBe(5 * 1024 ** 3);
    expect(configError({ S3_UPLOAD_CUTOFF_MB: '5121' }).message).toContain('S3_UPLOAD_CUTOFF_MB must be at most 5120');
    expect(configError({ S3_UPLOAD_CUTOFF_MB: '0' }).issues.map((i) => i.variable)).toEqual(['S3_UPLOAD_CUTOFF_MB']);
  });

  test('DOWNLOAD_RETRIES=0 means no retries', () => {
    expect(load({ DOWNLOAD_RETRIES: '0' }).download.retries).toBe(0);
    expect(configError({ DOWNLOAD_RETRIES: '-1' }).issues[0]?.variable).toBe('DOWNLOAD_RETRIES');
  });

  test('API hardening settings: lists, secrets and bounds', () => {
    const settings = load({
      API_ALLOWED_QUEUES: 'video, bulk,',
      METRICS_TOKEN: 'scrape-token-0123456789',
      API_MAX_UPLOADS_PER_KEY: '2',
    });
    expect(settings.api.allowedQueues).toEqual(['video', 'bulk']);
    expect(settings.api.metricsToken).toBe('scrape-token-0123456789');
    expect(settings.api.maxUploadsPerKey).toBe(2);
    expect(JSON.stringify(describeSettings(settings))).not.toContain('scrape-token');
    expect(configError({ METRICS_TOKEN: 'short' }).issues[0]?.variable).toBe('METRICS_TOKEN');
  });

  test('unknown storage schemes are refused', () => {
    expect(configError({ STORAGE_URL: 'ftp://x' }).issues[0]?.variable).toBe('STORAGE_URL');
  });
});

describe('describeSettings', () => {
  test('masks every secret and the database password', () => {
    const shown = JSON.stringify(
      describeSettings(
        load({
          DATABASE_URL: 'postgres://app:db-pass@db/app',
          S3_ACCESS_KEY_ID: 'AKIAEXAMPLE',
          S3_SECRET_ACCESS_KEY: 's3-secret',
          STORAGE_URL: 'supabase://media',
          SUPABASE_URL: 'https://x.supabase.co',
          SUPABASE_SERVICE_ROLE_KEY: 'service-role',
        }),
      ),
    );
    for (const secret of ['db-pass', 'AKIAEXAMPLE', 's3-secret', 'service-role']) expect(shown).not.toContain(secret);
    expect(shown).toContain('postgres://app:****@db/app');
  });
});
