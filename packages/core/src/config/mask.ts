/** Shows settings without their secrets, for `mediaforge config` and logs. */
import { ffmpegPath } from '../media/thumbnail/make-thumbnail.ts';
import type { Settings } from './settings.ts';

const MASK = '****';

/** Replaces the password of a URL with a mask: postgres://u:****@host/db. */
export function maskUrl(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    const url = new URL(value);
    if (url.password) url.password = MASK;
    return url.toString();
  } catch {
    return MASK;
  }
}

function maskSecret(value: string | undefined): string | undefined {
  return value === undefined ? undefined : MASK;
}

/** The effective configuration as a plain object, safe to print. */
export function describeSettings(settings: Settings): Record<string, unknown> {
  return {
    database: settings.databaseUrl ? maskUrl(settings.databaseUrl) : `pglite://${settings.home}/db (embedded)`,
    storageUrl: maskUrl(settings.storageUrl),
    s3: {
      ...settings.s3,
      accessKeyId: maskSecret(settings.s3.accessKeyId),
      secretAccessKey: maskSecret(settings.s3.secretAccessKey),
    },
    supabase: { ...settings.supabase, serviceRoleKey: maskSecret(settings.supabase.serviceRoleKey) },
    maxFileSizeMb: settings.maxFileSizeMb,
    maxBatchSize: settings.maxBatchSize,
    download: {
      timeoutSeconds: settings.download.idleMs / 1000,
      connectTimeoutSeconds: settings.download.connectMs / 1000,
      minSpeedKbps: settings.download.minBytesPerSecond / 1024,
      retries: settings.download.retries,
    },
    taskTimeoutMinutes: settings.taskTimeoutMinutes,
    taskSoftTimeoutMinutes: settings.taskSoftTimeoutMinutes,
    taskRetentionDays: settings.taskRetentionDays,
    taskRetrySeconds: { base: settings.taskRetry.baseMs / 1000, max: settings.taskRetry.maxMs / 1000 },
    api: { ...settings.api, metricsToken: maskSecret(settings.api.metricsToken) },
    uploads: {
      thumbnails: settings.uploads.thumbnails ?? 'on in serve and workers, off in the CLI quick path',
      videoFrameDecoder: ffmpegPath() ?? 'none: ffmpeg is not on PATH, so videos get no thumbnail',
      urlExpirySeconds: settings.uploads.urlExpirySeconds,
      tusExpiryHours: settings.uploads.tusExpiryMs / 3_600_000,
      tusMaxUploadsPerUser: settings.uploads.tusMaxPerUser,
    },
    logLevel: settings.logLevel,
    home: settings.home,
  };
}
