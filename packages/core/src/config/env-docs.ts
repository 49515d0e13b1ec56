/**
 * What each environment variable means, for people: docs/configuration.md is generated from this table and the
 * schema (`bun run docs`). Defaults that the schema itself fills in are read from it; `unset` says what happens
 * when a variable without a schema default is left out.
 */
import type { envSchema } from './env-schema.ts';

export type EnvGroup = 'state' | 's3' | 'supabase' | 'files' | 'downloads' | 'tasks' | 'api' | 'logs';

export interface EnvDoc {
  group: EnvGroup;
  /** One or two sentences: what the variable changes, with its unit and limits. */
  meaning: string;
  /** What an unset variable means, when the schema has no default value for it. */
  unset?: string;
}

/** Group titles, in the order docs/configuration.md lists them. */
export const ENV_GROUPS: Record<EnvGroup, string> = {
  state: 'Database and local state',
  s3: 'S3-compatible storage (AWS, Hetzner, MinIO, R2)',
  supabase: 'Supabase Storage',
  files: 'Files and batches',
  downloads: 'Downloads (URL ingest)',
  tasks: 'Background tasks',
  api: 'HTTP API (`mediaforge serve`)',
  logs: 'Logs',
};

export const ENV_DOCS = {
  DATABASE_URL: {
    group: 'state',
    meaning:
      '`postgres://…` (or `postgresql://…`) to use PostgreSQL; run `mediaforge migrate` once per release. Statements run prepared; add `?prepare=false` behind a pooler that cannot keep them (PgBouncer in transaction mode before 1.21).',
    unset: 'embedded PGlite in `$MEDIAFORGE_HOME/db`',
  },
  STORAGE_URL: {
    group: 'state',
    meaning: 'Picks the object store: `file://path`, `s3://bucket` or `supabase://bucket`.',
    unset: '`file://$MEDIAFORGE_HOME/objects`, or `s3://$S3_BUCKET` when a bucket is set (also `HZ_OBJ_BUCKET_NAME`)',
  },
  MEDIAFORGE_HOME: {
    group: 'state',
    meaning: "mediaforge's own state: the embedded database, local objects and the spool (`tmp`).",
  },
  S3_ENDPOINT: {
    group: 's3',
    meaning: 'Endpoint URL (`http://` or `https://`) of an S3-compatible service; unset means AWS.',
    unset: 'AWS',
  },
  S3_REGION: {
    group: 's3',
    meaning: 'Region used for signing.',
    unset: '`us-east-1` (for a Hetzner endpoint, the region in its host name)',
  },
  S3_ACCESS_KEY_ID: { group: 's3', meaning: 'Access key id.', unset: "the SDK's default credential chain" },
  S3_SECRET_ACCESS_KEY: { group: 's3', meaning: 'Secret access key.', unset: "the SDK's default credential chain" },
  S3_BUCKET: {
    group: 's3',
    meaning: 'Bucket name; with no `STORAGE_URL` it selects `s3://$S3_BUCKET`.',
    unset: 'none',
  },
  S3_FORCE_PATH_STYLE: {
    group: 's3',
    meaning: 'Path-style addressing (`endpoint/bucket/key`); `mediaforge config` shows the effective value.',
    unset: "on for any endpoint but AWS's",
  },
  S3_PART_SIZE_MB: {
    group: 's3',
    meaning:
      "Multipart part size, in MiB (at least 5, S3's minimum); four parts of a spooled file are in flight, two of a stream.",
  },
  S3_UPLOAD_CUTOFF_MB: {
    group: 's3',
    meaning:
      "A stored file up to this size, in MiB (at most 5120, S3's limit for one PutObject), is sent as one PutObject signed with the record's SHA-256, which S3 checks against the bytes it receives; a larger one as a multipart upload. rclone's default cutoff.",
  },
  S3_REQUEST_TIMEOUT_SECONDS: {
    group: 's3',
    meaning:
      'A request to S3 with no answer after this long (an upload: plus a second per 64 KiB of its body) is abandoned and retried as transient.',
  },
  S3_PUBLIC_URL: {
    group: 's3',
    meaning: 'Public base URL of the bucket (a CDN); object URLs become `$S3_PUBLIC_URL/key`.',
    unset: 'derived from the endpoint when the bucket is public',
  },
  S3_PUBLIC_BUCKET: {
    group: 's3',
    meaning:
      'The bucket allows anonymous reads: records get a public https `file_url` (Hetzner and AWS virtual-hosted, other endpoints per path style). Otherwise records keep `s3://bucket/key` and reads are redirected to a fresh presigned URL.',
  },
  HZ_OBJ_ENDPOINT: {
    group: 's3',
    meaning:
      'Hetzner Object Storage alias of `S3_ENDPOINT` (a host, or a URL); `S3_*` wins when both are set. Hetzner hosts `<region>.your-objectstorage.com` also give the region.',
    unset: 'none',
  },
  HZ_OBJ_ACCESS_KEY: { group: 's3', meaning: 'Alias of `S3_ACCESS_KEY_ID`.', unset: 'none' },
  HZ_OBJ_SECRET_KEY: { group: 's3', meaning: 'Alias of `S3_SECRET_ACCESS_KEY`.', unset: 'none' },
  HZ_OBJ_BUCKET_NAME: { group: 's3', meaning: 'Alias of `S3_BUCKET`.', unset: 'none' },
  HZ_OBJ_USE_SSL: {
    group: 's3',
    meaning: 'Whether an `HZ_OBJ_ENDPOINT` given as a bare host is reached over `https` (else `http`).',
  },
  SUPABASE_URL: { group: 'supabase', meaning: 'Project URL; required for `supabase://`.', unset: 'none' },
  SUPABASE_SERVICE_ROLE_KEY: {
    group: 'supabase',
    meaning: 'Service role key; required for `supabase://`.',
    unset: 'none',
  },
  SUPABASE_BUCKET: {
    group: 'supabase',
    meaning: 'Bucket name (the one in `supabase://bucket` wins).',
    unset: 'none',
  },
  SUPABASE_PUBLIC_BUCKET: {
    group: 'supabase',
    meaning: 'The bucket is public: object URLs are public URLs instead of signed ones.',
  },
  MAX_FILE_SIZE_MB: {
    group: 'files',
    meaning:
      'Largest file accepted from any source, in MB (at least 0.001). Uploads are cut off while they stream; request options and `--max-size` may only lower it.',
  },
  MAX_BATCH_SIZE: {
    group: 'files',
    meaning: 'Most URLs or records in one batch; more is refused with `BATCH_TOO_LARGE`.',
  },
  USER_STORAGE_QUOTA_MB: {
    group: 'files',
    meaning:
      'Bytes of stored files (live objects, thumbnails included) one user may own, in MiB; a file that would pass it is refused with 413 `QUOTA_EXCEEDED` before any byte is written. Files stored at the same time are counted together (the check and the reservation of its key hold a per-user lock), so they cannot pass it between them. 0: unlimited. Records without a user are not counted.',
  },
  USER_TASK_STORAGE_MB: {
    group: 'files',
    meaning:
      'Bytes of task input (URLs, options) one user may keep in the database, in MiB: a task holds its input until its items are pruned, TASK_RETENTION_DAYS after it ends, cancelled or not. A task that would pass it is refused with 413 `QUOTA_EXCEEDED`. Admin keys and the CLI are not limited. 0: unlimited.',
  },
  USER_MAX_RECORDS: {
    group: 'files',
    meaning:
      'Records one user may own; creating more (singly, in a batch or by URL ingest) is refused with 413 `QUOTA_EXCEEDED` and nothing is created. 0: unlimited.',
  },
  MEDIAFORGE_ALLOW_HOSTS: {
    group: 'downloads',
    meaning:
      'Comma-separated hosts that downloads and webhooks may reach even on private, loopback or link-local addresses. An entry with a port (`minio.internal:9000`, `[fd00::5]:9000`) allows that port only; one without, every port of the host.',
    unset: 'none: only public unicast addresses',
  },
  INGEST_HEADERS_KEY: {
    group: 'downloads',
    meaning:
      'Secret (32+ characters, the same on API and worker processes) that encrypts the request headers of queued ingests (AES-256-GCM) while they wait in the database.',
    unset: 'queued ingests refuse `headers` (INVALID_HEADERS); ingests run in the CLI process may still send them',
  },
  DOWNLOAD_TIMEOUT_SECONDS: {
    group: 'downloads',
    meaning:
      'A download fails (and is retried) when the server sends no byte for this long while mediaforge waits for one (time spent storing what arrived is not counted).',
  },
  DOWNLOAD_MIN_SPEED_KBPS: {
    group: 'downloads',
    meaning:
      'A download fails (and is retried, resuming where the server allows) when, over `DOWNLOAD_TIMEOUT_SECONDS` of waiting for the server, it sent fewer than this many KiB a second: an origin trickling a byte every few seconds no longer holds a worker slot until the task times out. 0 turns the check off.',
  },
  DOWNLOAD_CONNECT_TIMEOUT_SECONDS: {
    group: 'downloads',
    meaning:
      'Time allowed to connect. With `DOWNLOAD_TIMEOUT_SECONDS` it bounds the wait for response headers: a download fails (and is retried) when they have not arrived within the sum.',
  },
  DOWNLOAD_RETRIES: {
    group: 'downloads',
    meaning:
      'Retries of one download (timeouts, resets, 5xx, 408, 429 with `Retry-After`) before its queue item counts a failed attempt (0–100).',
  },
  TASK_TIMEOUT_MINUTES: {
    group: 'tasks',
    meaning:
      "Hard time limit of a job item: past it the item fails with `TASK_TIMEOUT` and its lease is dropped. A generator's record claim older than this counts as abandoned.",
  },
  TASK_SOFT_TIMEOUT_MINUTES: {
    group: 'tasks',
    meaning:
      "Soft time limit (below the hard one): the item's AbortSignal fires and it fails with `TASK_SOFT_TIMEOUT`.",
  },
  TASK_RETRY_BASE_SECONDS: {
    group: 'tasks',
    meaning: 'Backoff between attempts of a failed queue item: base × 2^(attempt−1), equal jitter, capped.',
  },
  TASK_RETRY_MAX_SECONDS: { group: 'tasks', meaning: 'Cap of that backoff.' },
  WEBHOOK_TIMEOUT_SECONDS: {
    group: 'tasks',
    meaning: 'Deadline of one webhook request (connect and answer); a slower receiver counts as a failed attempt.',
  },
  WEBHOOK_RETRY_BASE_SECONDS: {
    group: 'tasks',
    meaning: 'Wait before the second attempt of a webhook delivery; doubles per attempt (with jitter) up to 1 hour.',
  },
  DOWNLOAD_CONCURRENCY_PER_ORIGIN: {
    group: 'downloads',
    meaning: 'Downloads one worker process runs at once from one origin (scheme, host and port); more wait their turn.',
  },
  SCHEDULE_MIN_INTERVAL_SECONDS: {
    group: 'tasks',
    meaning: 'Shortest gap between two ticks of a schedule (a more frequent cron expression is refused).',
  },
  SCHEDULE_MAX_PER_USER: { group: 'tasks', meaning: 'Schedules one user (or the admin, without a user) may have.' },
  SCHEDULE_MAX_URLS: { group: 'tasks', meaning: 'URLs one ingest schedule may list.' },
  TASK_RETENTION_DAYS: {
    group: 'tasks',
    meaning:
      'Workers prune (hourly) the items of tasks finished longer ago; task results are kept (for TASK_HISTORY_DAYS).',
  },
  TASK_HISTORY_DAYS: {
    group: 'tasks',
    meaning:
      'Workers delete (hourly) tasks finished longer ago, with their results, webhooks and idempotency keys. 0: kept forever.',
  },
  API_HOST: { group: 'api', meaning: 'Address `mediaforge serve` listens on.' },
  API_PORT: { group: 'api', meaning: 'Port `mediaforge serve` listens on (`0` picks a free port).' },
  API_CORS_ORIGINS: {
    group: 'api',
    meaning: 'Comma-separated origins allowed to call `/v1` from browsers (`*` for any).',
    unset: 'no CORS',
  },
  API_RATE_LIMIT_PER_MINUTE: {
    group: 'api',
    meaning: 'Requests per minute per API key (token bucket; 429 with `Retry-After` past it).',
  },
  API_MAX_JSON_KB: {
    group: 'api',
    meaning: 'Largest JSON request body, in KiB (uploads are bounded by `MAX_FILE_SIZE_MB`, while they stream).',
  },
  API_IDLE_TIMEOUT_SECONDS: {
    group: 'api',
    meaning:
      "A connection is closed when it is idle, or a request other than an upload, SSE or synchronous generation has not been answered, this long (1–255, Bun's limit). JSON bodies are small: one that trickles in slower than that is dropped.",
  },
  API_BODY_TIMEOUT_SECONDS: {
    group: 'api',
    meaning:
      'A request body that sends nothing for this long gets a 408 (a long upload that keeps sending is never cut off).',
  },
  API_BODY_MIN_SPEED_KBPS: {
    group: 'api',
    meaning:
      'A request body that sends fewer than this many KiB a second over `API_BODY_TIMEOUT_SECONDS` of waiting for it gets a 408: a client trickling a byte every few seconds no longer holds its connection and upload slot indefinitely. Low on purpose, for slow mobile links (tus uploads resume). 0 turns the check off.',
  },
  API_MAX_ANONYMOUS_REQUESTS: {
    group: 'api',
    meaning:
      'Requests with a body from callers without a key (sign-in included) in flight at once, at most 8 of them per IPv4 address or IPv6 /64; more get a 503 `SERVER_BUSY`. Each is at most 64 KiB, so 256 hold at most 16 MiB.',
  },
  THUMBNAILS: {
    group: 'files',
    meaning:
      'Make a small WebP thumbnail (256 px) for every stored image and video (video frames need `ffmpeg` on PATH). A thumbnail that fails never fails its file.',
    unset: 'on in `mediaforge serve` and its workers, off in the CLI quick path (`generate`, `ingest`)',
  },
  UPLOAD_URL_EXPIRY_SECONDS: {
    group: 'api',
    meaning: 'How long a direct-upload URL or one-time upload token (`POST /v1/records/{uid}/upload-url`) stays valid.',
  },
  TUS_EXPIRY_HOURS: {
    group: 'api',
    meaning: 'A resumable (TUS) upload not finished within this many hours expires and its bytes are removed.',
  },
  TUS_MAX_UPLOADS_PER_USER: {
    group: 'api',
    meaning:
      'Uploads whose staged bytes one user may hold at once, resumable (TUS) and direct (`upload-url`) together, expired or not until removed; more are refused with 429 `UPLOAD_LIMIT` until some finish or are cancelled (the user’s own expired ones are removed when they create an upload). A presigned (S3) upload counts until its URL expires, even once completed.',
  },
  API_MAX_UPLOADS_PER_KEY: {
    group: 'api',
    meaning:
      'Uploads and synchronous generations (`POST /v1/records/{uid}/generate`) one key may run at once per API process; more get a 429 `CONCURRENCY_LIMITED` with `Retry-After`.',
  },
  API_MAX_UPLOADS: {
    group: 'api',
    meaning:
      'Uploads and synchronous generations the whole API process runs at once, all keys together (each holds a body and its buffers); more get a 503 `SERVER_BUSY` with `Retry-After`. Bounds the memory of many keys uploading at once.',
  },
  API_MAX_DOWNLOADS_PER_KEY: {
    group: 'api',
    meaning:
      'Files and thumbnails (`GET /v1/records/{uid}/file`, `/thumbnail`) one key may be sent at once per API process; each holds open files and a connection until its last byte is sent or the client leaves. More get a 429 `CONCURRENCY_LIMITED` with `Retry-After`.',
  },
  API_MAX_JSON_REQUESTS_PER_KEY: {
    group: 'api',
    meaning:
      'Requests with a JSON body (creating records, tasks, schedules, …) one key may have in flight at once per API process. Each holds its parsed body (up to `API_MAX_JSON_KB`, several times that once parsed) until it is answered: 40 batches of 1 MiB at once took one process to 500 MB. More get a 429 `CONCURRENCY_LIMITED` with `Retry-After`.',
  },
  API_MAX_ACTIVE_TASKS_PER_USER: {
    group: 'api',
    meaning:
      'Queued or running tasks a non-admin user may have (counted in the database, so across API processes); more ingest/generate requests get a 429.',
  },
  API_TRUSTED_PROXIES: {
    group: 'api',
    meaning:
      'Reverse proxies in front of the API, as addresses or CIDR ranges (`10.0.0.0/8,::1`). A request from one of them is counted against the address its `X-Forwarded-For` names (read from the right, past every trusted hop) for the per-address limits (failed key checks, anonymous bodies); from anyone else the header is ignored.',
    unset: 'none: the connecting address counts, whatever the header says',
  },
  API_ALLOWED_QUEUES: {
    group: 'api',
    meaning:
      'Comma-separated queues callers may name besides `default` and those a running worker serves (others: 422 `UNKNOWN_QUEUE`).',
    unset: 'none',
  },
  METRICS_TOKEN: {
    group: 'api',
    meaning: 'Bearer token (16+ characters) that may read `/metrics`, for scrapers.',
    unset: 'admin keys only',
  },
  LOG_LEVEL: {
    group: 'logs',
    meaning: '`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`. Logs are JSON lines on stderr.',
  },
} satisfies Record<keyof typeof envSchema.shape, EnvDoc>;
