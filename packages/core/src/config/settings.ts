/** Typed settings derived from the environment: aliases resolved, cross-field rules checked. */
import { isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../errors.ts';
import { commaList } from './comma-list.ts';
import { type Env, envSchema, type LogLevel, SECRET_VARIABLES } from './env-schema.ts';
import { isAwsEndpoint, s3PublicBaseUrl } from './s3-public-url.ts';

/** S3's largest single PutObject, in MiB (5 GiB). */
const S3_MAX_PUT_MB = 5 * 1024;

export interface S3Settings {
  endpoint?: string;
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  bucket?: string;
  /**
   * Effective: `S3_FORCE_PATH_STYLE` when set, else on for any endpoint but AWS's (MinIO, s3rver and R2 need
   * path-style addressing; Hetzner accepts it).
   */
  forcePathStyle: boolean;
  /** Multipart part size for streamed uploads (at least 5 MiB, S3's minimum). */
  partSizeBytes: number;
  /** A stored file up to this size is one PutObject signed with its SHA-256; larger, a multipart upload. */
  uploadCutoffBytes: number;
  /** A request with no answer after this long (plus time for its body at 64 KiB/s) is abandoned and retried. */
  requestTimeoutMs: number;
  /** The bucket allows anonymous reads (`S3_PUBLIC_BUCKET`): records carry public URLs instead of `s3://` ones. */
  publicBucket: boolean;
  /**
   * Effective public base URL of objects: `S3_PUBLIC_URL` (a CDN), else derived from the endpoint when the bucket
   * is public (./s3-public-url.ts); unset means presigned URLs at read time.
   */
  publicUrl?: string;
}

export interface SupabaseSettings {
  url?: string;
  serviceRoleKey?: string;
  bucket?: string;
  publicBucket: boolean;
}

export interface ApiSettings {
  host: string;
  port: number;
  /** Origins allowed by CORS (`*` for any); none means no CORS headers. */
  corsOrigins: string[];
  /** Requests per minute per API key (a token bucket: bursts up to this many). */
  rateLimitPerMinute: number;
  /** Largest JSON request body, in bytes (uploads are bounded by MAX_FILE_SIZE_MB instead). */
  maxJsonBytes: number;
  /** A connection with no traffic for this long is closed (stalled bodies, idle keep-alives); at most 255. */
  idleTimeoutSeconds: number;
  /** Longest wait for the next chunk of a request body, long uploads included: a body that stops is dropped. */
  bodyTimeoutMs: number;
  /** Slowest request body accepted, in bytes a second of waiting, measured over `bodyTimeoutMs`; 0 = no minimum. */
  bodyMinBytesPerSecond: number;
  /** Requests with a body from callers without a key (sign-in, bad routes) served at once; more get a 503. */
  maxAnonymousRequests: number;
  /** Uploads one API key may stream at once; more get a 429. */
  maxUploadsPerKey: number;
  /** Uploads the whole process streams at once, all keys together; more get a 503. */
  maxUploads: number;
  /** Files and thumbnails one API key may be sent at once (each holds open files and a connection); more get a 429. */
  maxDownloadsPerKey: number;
  /** Requests with a JSON body one key may have in flight at once per process (API_MAX_JSON_REQUESTS_PER_KEY). */
  maxJsonRequestsPerKey: number;
  /** Queued or running tasks one user may have before new ingest/generate requests get a 429 (admins exempt). */
  maxActiveTasksPerUser: number;
  /** Queues callers may name besides `default` and those a registered worker serves. */
  allowedQueues: string[];
  /** Reverse proxies whose `X-Forwarded-For` names the client (addresses or CIDR ranges; see trusted-proxies.ts). */
  trustedProxies: string[];
  /** A bearer token that may read /metrics besides admin keys (for scrapers). */
  metricsToken?: string;
}

export interface DownloadSettings {
  connectMs: number;
  /** Longest wait for the response's first byte, and between two body chunks. */
  idleMs: number;
  /** Slowest body accepted, in bytes a second of waiting for the server, measured over `idleMs`; 0 = no minimum. */
  minBytesPerSecond: number;
  /** Retries of one download (timeouts, resets, 5xx, 429) before its item is given back to the queue. */
  retries: number;
  /** Downloads one worker process runs at once from one origin. */
  perOrigin: number;
}

export interface ScheduleSettings {
  minIntervalSeconds: number;
  maxPerUser: number;
  maxUrls: number;
}

export interface UploadSettings {
  /** `undefined`: on in `serve` and its workers, off in the CLI quick path (THUMBNAILS). */
  thumbnails: boolean | undefined;
  urlExpirySeconds: number;
  tusExpiryMs: number;
  tusMaxPerUser: number;
}

/** Per-user limits (`USER_STORAGE_QUOTA_MB`, `USER_MAX_RECORDS`, `USER_TASK_STORAGE_MB`); 0 means unlimited. */
export interface UserQuotaSettings {
  /** Bytes of live objects one user may own. */
  storageBytes: number;
  /** Records one user may own. */
  maxRecords: number;
  /** Bytes of task input one user's tasks may keep in the database until their items are pruned (task-storage.ts). */
  taskBytes?: number;
}

export interface Settings {
  /** `undefined` means the embedded PGlite database under `home/db`. */
  databaseUrl?: string;
  storageUrl: string;
  s3: S3Settings;
  supabase: SupabaseSettings;
  /** Hosts downloads may reach even when they resolve to non-public addresses (`MEDIAFORGE_ALLOW_HOSTS`). */
  allowHosts: string[];
  /** Encrypts queued ingests' request headers (`INGEST_HEADERS_KEY`); without it queued ingests take no headers. */
  ingestHeadersKey?: string;
  maxFileSizeMb: number;
  maxFileSizeBytes: number;
  maxBatchSize: number;
  /** Per-user limits on what one user's files and records take up (0: unlimited). See `files/user-quota.ts`. */
  quota: UserQuotaSettings;
  download: DownloadSettings;
  taskTimeoutMinutes: number;
  taskSoftTimeoutMinutes: number;
  /** Items of tasks finished longer ago are pruned by workers (task results are kept). */
  taskRetentionDays: number;
  /** Days a finished task's row (its result) is kept before it is deleted with everything it holds; 0: forever. */
  taskHistoryDays: number;
  /** Backoff between attempts of a failed item: base × 2^(attempt-1) with jitter, capped at max. */
  taskRetry: { baseMs: number; maxMs: number };
  /** Webhook deliveries: one request's deadline, and the backoff between attempts. */
  webhook: { timeoutMs: number; retry: { baseMs: number; maxMs: number } };
  schedules: ScheduleSettings;
  api: ApiSettings;
  uploads: UploadSettings;
  logLevel: LogLevel;
  /** Absolute path of mediaforge's own state directory (embedded database, local objects). */
  home: string;
}

export interface LoadSettingsOptions {
  /** Defaults to `process.env` (Bun has already merged a `.env` file from the working directory into it). */
  env?: Record<string, string | undefined>;
  cwd?: string;
}

/**
 * Reads and validates every setting at once.
 * @throws ConfigError naming every invalid variable and why (values of secrets are never echoed).
 */
export function loadSettings({ env = process.env, cwd = process.cwd() }: LoadSettingsOptions = {}): Settings {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => {
      const variable = String(issue.path[0] ?? 'environment');
      const raw = env[variable];
      const shown = raw !== undefined && !isSecret(variable) ? ` (got ${JSON.stringify(raw)})` : '';
      return { variable, problem: `${issue.message}${shown}` };
    });
    throw configError(issues);
  }
  return toSettings(parsed.data, cwd);
}

function toSettings(env: Env, cwd: string): Settings {
  const issues: { variable: string; problem: string }[] = [];
  const home = isAbsolute(env.MEDIAFORGE_HOME) ? env.MEDIAFORGE_HOME : resolve(cwd, env.MEDIAFORGE_HOME);
  const s3Connection = resolveS3(env);
  const bucketDefault = s3Connection.bucket ? `s3://${s3Connection.bucket}` : undefined;
  const storageUrl = env.STORAGE_URL ?? bucketDefault ?? `file://${resolve(home, 'objects')}`;
  const s3 = withPublicUrl(env, s3Connection, storageUrl);

  const storageScheme = new URL(storageUrl).protocol;
  if (storageScheme === 'supabase:') {
    if (!env.SUPABASE_URL)
      issues.push({ variable: 'SUPABASE_URL', problem: 'is required for a supabase:// STORAGE_URL' });
    if (!env.SUPABASE_SERVICE_ROLE_KEY) {
      issues.push({ variable: 'SUPABASE_SERVICE_ROLE_KEY', problem: 'is required for a supabase:// STORAGE_URL' });
    }
  }
  if (storageScheme === 's3:' && !new URL(storageUrl).hostname) {
    issues.push({ variable: 'STORAGE_URL', problem: 'an s3:// URL must name a bucket, e.g. s3://corpus-data' });
  }
  if (env.S3_PART_SIZE_MB < 5) {
    issues.push({
      variable: 'S3_PART_SIZE_MB',
      problem: `must be at least 5, S3's minimum part size (got ${env.S3_PART_SIZE_MB})`,
    });
  }
  if (env.S3_UPLOAD_CUTOFF_MB > S3_MAX_PUT_MB) {
    issues.push({
      variable: 'S3_UPLOAD_CUTOFF_MB',
      problem: `must be at most ${S3_MAX_PUT_MB}, S3's limit for one PutObject (got ${env.S3_UPLOAD_CUTOFF_MB})`,
    });
  }
  if (env.TASK_SOFT_TIMEOUT_MINUTES >= env.TASK_TIMEOUT_MINUTES) {
    issues.push({
      variable: 'TASK_SOFT_TIMEOUT_MINUTES',
      problem: `must be less than TASK_TIMEOUT_MINUTES (${env.TASK_SOFT_TIMEOUT_MINUTES} >= ${env.TASK_TIMEOUT_MINUTES})`,
    });
  }
  if (issues.length > 0) throw configError(issues);

  return {
    databaseUrl: env.DATABASE_URL,
    storageUrl,
    s3,
    supabase: {
      url: env.SUPABASE_URL,
      serviceRoleKey: env.SUPABASE_SERVICE_ROLE_KEY,
      bucket: env.SUPABASE_BUCKET,
      publicBucket: env.SUPABASE_PUBLIC_BUCKET,
    },
    allowHosts: commaList(env.MEDIAFORGE_ALLOW_HOSTS),
    maxFileSizeMb: env.MAX_FILE_SIZE_MB,
    maxFileSizeBytes: Math.floor(env.MAX_FILE_SIZE_MB * 1024 * 1024),
    maxBatchSize: env.MAX_BATCH_SIZE,
    quota: {
      storageBytes: Math.floor(env.USER_STORAGE_QUOTA_MB * 1024 * 1024),
      maxRecords: env.USER_MAX_RECORDS,
      taskBytes: Math.floor(env.USER_TASK_STORAGE_MB * 1024 * 1024),
    },
    download: {
      connectMs: env.DOWNLOAD_CONNECT_TIMEOUT_SECONDS * 1000,
      idleMs: env.DOWNLOAD_TIMEOUT_SECONDS * 1000,
      minBytesPerSecond: env.DOWNLOAD_MIN_SPEED_KBPS * 1024,
      retries: env.DOWNLOAD_RETRIES,
      perOrigin: env.DOWNLOAD_CONCURRENCY_PER_ORIGIN,
    },
    taskTimeoutMinutes: env.TASK_TIMEOUT_MINUTES,
    taskSoftTimeoutMinutes: env.TASK_SOFT_TIMEOUT_MINUTES,
    taskRetentionDays: env.TASK_RETENTION_DAYS,
    taskHistoryDays: env.TASK_HISTORY_DAYS,
    taskRetry: { baseMs: env.TASK_RETRY_BASE_SECONDS * 1000, maxMs: env.TASK_RETRY_MAX_SECONDS * 1000 },
    webhook: {
      timeoutMs: env.WEBHOOK_TIMEOUT_SECONDS * 1000,
      retry: { baseMs: env.WEBHOOK_RETRY_BASE_SECONDS * 1000, maxMs: 3_600_000 },
    },
    schedules: {
      minIntervalSeconds: env.SCHEDULE_MIN_INTERVAL_SECONDS,
      maxPerUser: env.SCHEDULE_MAX_PER_USER,
      maxUrls: env.SCHEDULE_MAX_URLS,
    },
    api: {
      host: env.API_HOST,
      port: env.API_PORT,
      corsOrigins: commaList(env.API_CORS_ORIGINS),
      rateLimitPerMinute: env.API_RATE_LIMIT_PER_MINUTE,
      maxJsonBytes: env.API_MAX_JSON_KB * 1024,
      idleTimeoutSeconds: env.API_IDLE_TIMEOUT_SECONDS,
      bodyTimeoutMs: env.API_BODY_TIMEOUT_SECONDS * 1000,
      bodyMinBytesPerSecond: env.API_BODY_MIN_SPEED_KBPS * 1024,
      maxAnonymousRequests: env.API_MAX_ANONYMOUS_REQUESTS,
      maxUploadsPerKey: env.API_MAX_UPLOADS_PER_KEY,
      maxUploads: env.API_MAX_UPLOADS,
      maxDownloadsPerKey: env.API_MAX_DOWNLOADS_PER_KEY,
      maxJsonRequestsPerKey: env.API_MAX_JSON_REQUESTS_PER_KEY,
      maxActiveTasksPerUser: env.API_MAX_ACTIVE_TASKS_PER_USER,
      trustedProxies: commaList(env.API_TRUSTED_PROXIES),
      allowedQueues: commaList(env.API_ALLOWED_QUEUES),
      ...(env.METRICS_TOKEN ? { metricsToken: env.METRICS_TOKEN } : {}),
    },
    ...(env.INGEST_HEADERS_KEY ? { ingestHeadersKey: env.INGEST_HEADERS_KEY } : {}),
    uploads: {
      thumbnails: env.THUMBNAILS,
      urlExpirySeconds: env.UPLOAD_URL_EXPIRY_SECONDS,
      tusExpiryMs: Math.round(env.TUS_EXPIRY_HOURS * 3_600_000),
      tusMaxPerUser: env.TUS_MAX_UPLOADS_PER_USER,
    },
    logLevel: env.LOG_LEVEL,
    home,
  };
}

/** The seed's HZ_OBJ_* variables fill in whatever S3_* leaves unset. */
function resolveS3(env: Env): Omit<S3Settings, 'publicUrl'> {
  const hetznerEndpoint = env.HZ_OBJ_ENDPOINT
    ? /^https?:\/\//.test(env.HZ_OBJ_ENDPOINT)
      ? env.HZ_OBJ_ENDPOINT
      : `${env.HZ_OBJ_USE_SSL ? 'https' : 'http'}://${env.HZ_OBJ_ENDPOINT}`
    : undefined;
  const endpoint = env.S3_ENDPOINT ?? hetznerEndpoint;
  return {
    endpoint,
    region: env.S3_REGION ?? (hetznerEndpoint ? hetznerRegion(hetznerEndpoint) : 'us-east-1'),
    accessKeyId: env.S3_ACCESS_KEY_ID ?? env.HZ_OBJ_ACCESS_KEY,
    secretAccessKey: env.S3_SECRET_ACCESS_KEY ?? env.HZ_OBJ_SECRET_KEY,
    bucket: env.S3_BUCKET ?? env.HZ_OBJ_BUCKET_NAME,
    forcePathStyle: env.S3_FORCE_PATH_STYLE ?? (endpoint !== undefined && !isAwsEndpoint(endpoint)),
    partSizeBytes: env.S3_PART_SIZE_MB * 1024 * 1024,
    uploadCutoffBytes: env.S3_UPLOAD_CUTOFF_MB * 1024 * 1024,
    requestTimeoutMs: env.S3_REQUEST_TIMEOUT_SECONDS * 1000,
    publicBucket: env.S3_PUBLIC_BUCKET,
  };
}

/** The bucket is the one STORAGE_URL names when it is an s3:// URL (it may differ from S3_BUCKET). */
function withPublicUrl(env: Env, s3: Omit<S3Settings, 'publicUrl'>, storageUrl: string): S3Settings {
  const url = new URL(storageUrl);
  const bucket = url.protocol === 's3:' && url.hostname ? decodeURIComponent(url.hostname) : s3.bucket;
  const publicUrl = env.S3_PUBLIC_URL ?? (s3.publicBucket && bucket ? s3PublicBaseUrl({ ...s3, bucket }) : undefined);
  return publicUrl ? { ...s3, publicUrl } : s3;
}

/** Hetzner endpoints are `<region>.your-objectstorage.com`; the SDK needs that region for signing. */
function hetznerRegion(endpoint: string): string {
  const host = new URL(endpoint).hostname;
  return host.endsWith('.your-objectstorage.com') ? (host.split('.')[0] ?? 'us-east-1') : 'us-east-1';
}

function isSecret(variable: string): boolean {
  return SECRET_VARIABLES.has(variable) || variable === 'DATABASE_URL';
}

function configError(issues: { variable: string; problem: string }[]): ConfigError {
  const lines = issues.map((issue) => `${issue.variable} ${issue.problem}`);
  return new ConfigError(`Invalid configuration: ${lines.join('; ')}.`, issues);
}
