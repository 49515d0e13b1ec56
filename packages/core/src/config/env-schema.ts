/** The environment variables mediaforge reads, as one zod schema. */
import { z } from 'zod';
import { parseAllowedHost } from '../ingest/guard.ts';
import { invalidEntries } from './comma-list.ts';
import { parseProxyEntry } from './trusted-proxies.ts';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const emptyToUndefined = (value: unknown) => (value === '' ? undefined : value);

const optionalString = z.preprocess(emptyToUndefined, z.string().optional());

/** A comma-separated list whose every entry `valid` accepts; the error names the entries that are not `what`. */
const checkedList = (valid: (entry: string) => unknown, what: string) =>
  optionalString.refine((list) => list === undefined || invalidEntries(list, valid).length === 0, {
    error: (issue) =>
      `not ${what}: ${invalidEntries(String(issue.input), valid)
        .map((entry) => JSON.stringify(entry))
        .join(', ')}`,
  });

/** A true/false variable; `fallback` when unset (`undefined` keeps "unset" apart from an explicit false). */
const envBoolean = <T extends boolean | undefined>(fallback: T) =>
  z.preprocess(
    emptyToUndefined,
    z
      .string()
      .optional()
      .transform((value, ctx): boolean | T => {
        if (value === undefined) return fallback;
        const normalized = value.trim().toLowerCase();
        if (['1', 'true', 'yes', 'on'].includes(normalized)) return true;
        if (['0', 'false', 'no', 'off'].includes(normalized)) return false;
        ctx.addIssue({ code: 'custom', message: 'must be true or false' });
        return z.NEVER;
      }),
  );

/** The longest delay a JavaScript timer holds (2^31 − 1 ms, about 24.8 days); longer ones fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

const DECIMAL = /^\d+(\.\d+)?$/;

interface NumberRule {
  integer?: boolean;
  /** Zero is allowed (the default is strictly positive). */
  zero?: boolean;
  /** Smallest allowed value, with why (a nonsensically small setting is refused, not rounded). */
  min?: [number, string];
  /** Largest allowed value, with why (e.g. what a timer can hold). */
  max?: [number, string];
}

/** Plain decimal numbers only: `0x10`, `1e-7`, `+5` and ` 5` are refused, not read the way JavaScript would. */
const positiveNumber = (fallback: number, { integer = false, zero = false, min, max }: NumberRule = {}) =>
  z.preprocess(
    emptyToUndefined,
    z
      .string()
      .optional()
      .transform((value, ctx) => {
        if (value === undefined) return fallback;
        const parsed = Number(value);
        if (!Number.isFinite(parsed) || (zero ? parsed < 0 : parsed <= 0) || (integer && !Number.isInteger(parsed))) {
          const kind = `${zero ? 'non-negative' : 'positive'} ${integer ? 'integer' : 'number'}`;
          ctx.addIssue({ code: 'custom', message: `must be a ${kind}` });
          return z.NEVER;
        }
        if (!DECIMAL.test(value)) {
          ctx.addIssue({
            code: 'custom',
            message: 'must be written in plain decimal digits (no hex, exponent or sign)',
          });
          return z.NEVER;
        }
        if (min && parsed < min[0]) {
          ctx.addIssue({ code: 'custom', message: `must be at least ${min[0]} (${min[1]})` });
          return z.NEVER;
        }
        if (max && parsed > max[0]) {
          ctx.addIssue({ code: 'custom', message: `must be at most ${max[0]} (${max[1]})` });
          return z.NEVER;
        }
        return parsed;
      }),
  );

const TIMER = 'the longest delay a timer holds, 2^31 − 1 ms';
/** A duration that drives a timer, in `unitMs` units: refused past what setTimeout can hold. */
const timerSetting = (fallback: number, unitMs: number) =>
  positiveNumber(fallback, { max: [Math.floor(MAX_TIMER_MS / unitMs), TIMER] });

const urlWithSchemes = (schemes: readonly string[]) =>
  z.preprocess(
    emptyToUndefined,
    z
      .string()
      .optional()
      .superRefine((value, ctx) => {
        if (value === undefined) return;
        let url: URL;
        try {
          url = new URL(value);
        } catch {
          ctx.addIssue({ code: 'custom', message: `must be a URL starting with ${schemes.join(' or ')}` });
          return;
        }
        if (!schemes.includes(url.protocol)) {
          ctx.addIssue({ code: 'custom', message: `must start with ${schemes.join(' or ')} (got ${url.protocol})` });
        }
      }),
  );

export const envSchema = z.object({
  DATABASE_URL: urlWithSchemes(['postgres:', 'postgresql:']),
  STORAGE_URL: urlWithSchemes(['file:', 's3:', 'supabase:']),
  S3_ENDPOINT: urlWithSchemes(['http:', 'https:']),
  S3_REGION: optionalString,
  S3_ACCESS_KEY_ID: optionalString,
  S3_SECRET_ACCESS_KEY: optionalString,
  S3_BUCKET: optionalString,
  S3_FORCE_PATH_STYLE: envBoolean(undefined),
  S3_PART_SIZE_MB: positiveNumber(8, { integer: true }),
  S3_UPLOAD_CUTOFF_MB: positiveNumber(200, { integer: true }),
  S3_REQUEST_TIMEOUT_SECONDS: positiveNumber(120),
  S3_PUBLIC_URL: urlWithSchemes(['http:', 'https:']),
  S3_PUBLIC_BUCKET: envBoolean(false),
  HZ_OBJ_ENDPOINT: optionalString,
  HZ_OBJ_ACCESS_KEY: optionalString,
  HZ_OBJ_SECRET_KEY: optionalString,
  HZ_OBJ_BUCKET_NAME: optionalString,
  HZ_OBJ_USE_SSL: envBoolean(true),
  SUPABASE_URL: urlWithSchemes(['http:', 'https:']),
  SUPABASE_SERVICE_ROLE_KEY: optionalString,
  SUPABASE_BUCKET: optionalString,
  SUPABASE_PUBLIC_BUCKET: envBoolean(false),
  MEDIAFORGE_ALLOW_HOSTS: checkedList(parseAllowedHost, 'a host or host:port'),
  INGEST_HEADERS_KEY: z.preprocess(emptyToUndefined, z.string().min(32, 'must be at least 32 characters').optional()),
  MAX_FILE_SIZE_MB: positiveNumber(50, { min: [0.001, 'about 1 KiB'] }),
  MAX_BATCH_SIZE: positiveNumber(1000, { integer: true }),
  USER_STORAGE_QUOTA_MB: positiveNumber(10_240, { zero: true }),
  USER_MAX_RECORDS: positiveNumber(100_000, { integer: true, zero: true }),
  USER_TASK_STORAGE_MB: positiveNumber(100, { zero: true }),
  THUMBNAILS: envBoolean(undefined),
  UPLOAD_URL_EXPIRY_SECONDS: positiveNumber(900, { integer: true, max: [604_800, "S3's longest presigned URL"] }),
  TUS_EXPIRY_HOURS: positiveNumber(24, { max: [720, 'thirty days'] }),
  TUS_MAX_UPLOADS_PER_USER: positiveNumber(10, { integer: true }),
  DOWNLOAD_TIMEOUT_SECONDS: timerSetting(30, 1000),
  DOWNLOAD_CONNECT_TIMEOUT_SECONDS: timerSetting(10, 1000),
  DOWNLOAD_MIN_SPEED_KBPS: positiveNumber(16, { zero: true }),
  DOWNLOAD_RETRIES: positiveNumber(3, {
    integer: true,
    zero: true,
    max: [100, 'retries beyond that only delay the failure'],
  }),
  DOWNLOAD_CONCURRENCY_PER_ORIGIN: positiveNumber(4, { integer: true, max: [1000, 'more is no limit at all'] }),
  TASK_TIMEOUT_MINUTES: timerSetting(30, 60_000),
  TASK_SOFT_TIMEOUT_MINUTES: timerSetting(25, 60_000),
  TASK_RETENTION_DAYS: positiveNumber(7),
  TASK_HISTORY_DAYS: positiveNumber(90, { zero: true }),
  TASK_RETRY_BASE_SECONDS: timerSetting(2, 1000),
  TASK_RETRY_MAX_SECONDS: timerSetting(300, 1000),
  WEBHOOK_TIMEOUT_SECONDS: timerSetting(10, 1000),
  WEBHOOK_RETRY_BASE_SECONDS: timerSetting(5, 1000),
  SCHEDULE_MIN_INTERVAL_SECONDS: positiveNumber(60, { integer: true, max: [86_400, 'one run a day'] }),
  SCHEDULE_MAX_PER_USER: positiveNumber(20, { integer: true, max: [10_000, 'beyond that, list and fire costs grow'] }),
  SCHEDULE_MAX_URLS: positiveNumber(100, { integer: true, max: [10_000, 'a schedule is not a bulk import'] }),
  API_HOST: z.preprocess(emptyToUndefined, z.string().default('127.0.0.1')),
  API_PORT: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .optional()
      .transform((value, ctx) => {
        if (value === undefined) return 8080;
        const port = Number(value);
        if (!Number.isInteger(port) || port < 0 || port > 65_535) {
          ctx.addIssue({ code: 'custom', message: 'must be a port number from 0 to 65535' });
          return z.NEVER;
        }
        return port;
      }),
  ),
  API_CORS_ORIGINS: optionalString,
  API_RATE_LIMIT_PER_MINUTE: positiveNumber(1200, { integer: true }),
  API_MAX_JSON_KB: positiveNumber(1024, { integer: true }),
  // Bun closes a connection that sends and receives nothing for this long; it holds at most 255 seconds.
  API_IDLE_TIMEOUT_SECONDS: positiveNumber(30, { integer: true, max: [255, "Bun's longest idle timeout"] }),
  API_BODY_TIMEOUT_SECONDS: timerSetting(30, 1000),
  API_BODY_MIN_SPEED_KBPS: positiveNumber(1, { zero: true }),
  API_MAX_ANONYMOUS_REQUESTS: positiveNumber(256, { integer: true }),
  API_MAX_UPLOADS_PER_KEY: positiveNumber(4, { integer: true }),
  API_MAX_UPLOADS: positiveNumber(64, { integer: true }),
  API_MAX_DOWNLOADS_PER_KEY: positiveNumber(32, { integer: true }),
  API_MAX_JSON_REQUESTS_PER_KEY: positiveNumber(8, { integer: true }),
  API_MAX_ACTIVE_TASKS_PER_USER: positiveNumber(20, { integer: true }),
  API_ALLOWED_QUEUES: optionalString,
  API_TRUSTED_PROXIES: checkedList(parseProxyEntry, 'an address or CIDR range'),
  METRICS_TOKEN: z.preprocess(emptyToUndefined, z.string().min(16, 'must be at least 16 characters').optional()),
  LOG_LEVEL: z.preprocess(
    (value) => (typeof value === 'string' && value !== '' ? value.toLowerCase() : undefined),
    z.enum(LOG_LEVELS).default('info'),
  ),
  MEDIAFORGE_HOME: z.preprocess(emptyToUndefined, z.string().default('./.mediaforge')),
});

export type Env = z.infer<typeof envSchema>;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Variables whose values are secrets: shown masked, never logged. */
export const SECRET_VARIABLES = new Set([
  'S3_SECRET_ACCESS_KEY',
  'S3_ACCESS_KEY_ID',
  'HZ_OBJ_SECRET_KEY',
  'HZ_OBJ_ACCESS_KEY',
  'SUPABASE_SERVICE_ROLE_KEY',
  'METRICS_TOKEN',
  'INGEST_HEADERS_KEY',
]);
