/** The long-lived parts the routes share, built once per app from ApiDeps. */
import {
  API_KEYS_CHANNEL,
  ApiKeyStore,
  type Database,
  type Logger,
  type OpenUploadLimit,
  RecordFileGenerator,
  RecordRepository,
  type Scope,
  type Settings,
  TaskManager,
} from '@mediaforge/core';
import type { ObjectStore } from '@mediaforge/storage';
import { AuthFailureLimiter } from './auth-failures.ts';
import { ConcurrencyLimiter } from './concurrency.ts';

/** Task event streams one API key may hold open at once (429 CONCURRENCY_LIMITED past it). */
export const MAX_EVENT_STREAMS_PER_KEY = 16;

import type { ApiDeps } from './env.ts';
import { TaskEvents } from './events.ts';
import { KeyVerifier } from './key-verifier.ts';
import { type ApiMetrics, createMetrics } from './metrics.ts';
import { openUploadLimit } from './open-uploads.ts';
import { RateLimiter } from './rate-limit.ts';
import { openTusDatastore, type TusDatastore } from './tus/tus-datastore.ts';

export interface Services {
  database: Database;
  store: ObjectStore;
  settings: Settings;
  logger: Logger;
  records: RecordRepository;
  tasks: TaskManager;
  /** A generator acting in `scope` (it touches no record outside it). */
  generator(scope: Scope): RecordFileGenerator;
  keys: ApiKeyStore;
  verifier: KeyVerifier;
  limiter: RateLimiter;
  /** Failed key checks per client address or IPv6 /64 (made-up keys cost a lookup each). */
  authFailures: AuthFailureLimiter;
  /** Uploads streaming per API key (API_MAX_UPLOADS_PER_KEY) and in the whole process (API_MAX_UPLOADS). */
  uploads: ConcurrencyLimiter;
  /** Files and thumbnails being sent per API key (API_MAX_DOWNLOADS_PER_KEY): each holds a file and a connection. */
  downloads: ConcurrencyLimiter;
  /** Requests with a JSON body in flight per API key (API_MAX_JSON_REQUESTS_PER_KEY): each holds its parsed body. */
  jsonRequests: ConcurrencyLimiter;
  /** Open task event streams (SSE) per key: each holds a connection and reads the task's status on every change. */
  eventStreams: ConcurrencyLimiter;
  /** Where resumable (TUS) uploads wait until they complete. */
  tusStore: TusDatastore;
  /** TUS_MAX_UPLOADS_PER_USER, for TUS and direct uploads together. */
  openUploads: OpenUploadLimit;
  metrics: ApiMetrics;
  events: TaskEvents;
  /** Thumbnails for stored images and videos (THUMBNAILS; on unless set to false). */
  thumbnails: boolean;
  version: string;
  /** Stops the background work the services run (task snapshots, the revocation listener). */
  close(): Promise<void>;
}

export function createServices(deps: ApiDeps): Services {
  const { database, store, settings } = deps;
  const keys = new ApiKeyStore(database.db);
  const verifier = new KeyVerifier(keys, deps.keyCacheMs === undefined ? {} : { cacheMs: deps.keyCacheMs });
  const events = new TaskEvents(database.db, deps.eventIntervalMs ?? 500);
  // Revocations from any process evict the key from this server's cache; if LISTEN cannot start, the cache's
  // 10-second expiry still bounds how long a revoked key works here.
  const unlisten = database
    .listen(API_KEYS_CHANNEL, (keyId) => verifier.forget(keyId))
    .catch((error: unknown) => {
      deps.logger.warn({ err: error }, 'cannot listen for key revocations; cached keys expire after 10 s');
      return async () => {};
    });
  const tusStore = openTusDatastore(settings);
  return {
    database,
    store,
    settings,
    logger: deps.logger,
    records: new RecordRepository(database.db, { quota: settings.quota }),
    tasks: new TaskManager({ database, settings }),
    generator: (scope) => new RecordFileGenerator({ db: database.db, store, settings, scope }),
    keys,
    verifier,
    limiter: new RateLimiter(settings.api.rateLimitPerMinute),
    authFailures: new AuthFailureLimiter(),
    uploads: new ConcurrencyLimiter(settings.api.maxUploadsPerKey, 'uploads or generations', settings.api.maxUploads),
    downloads: new ConcurrencyLimiter(settings.api.maxDownloadsPerKey, 'downloads'),
    jsonRequests: new ConcurrencyLimiter(settings.api.maxJsonRequestsPerKey, 'requests with a JSON body'),
    eventStreams: new ConcurrencyLimiter(MAX_EVENT_STREAMS_PER_KEY, 'open task event streams'),
    tusStore,
    openUploads: openUploadLimit(database, store, tusStore, settings, deps.logger),
    metrics: createMetrics(database.db),
    events,
    thumbnails: settings.uploads.thumbnails ?? true,
    version: deps.version ?? '0.0.0',
    async close() {
      events.close();
      // A database closed first has dropped the subscription with itself.
      await (await unlisten)().catch(() => {});
    },
  };
}
