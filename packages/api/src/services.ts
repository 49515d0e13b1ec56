/** The long-lived parts the routes share, built once per app from ApiDeps. */
import {
  ApiKeyStore,
  type Database,
  type Logger,
  RecordFileGenerator,
  RecordRepository,
  type Scope,
  type Settings,
  TaskManager,
} from '@mediaforge/core';
import type { ObjectStore } from '@mediaforge/storage';
import { KeyVerifier } from './auth.ts';
import { ConcurrencyLimiter } from './concurrency.ts';
import type { ApiDeps } from './env.ts';
import { TaskEvents } from './events.ts';
import { type ApiMetrics, createMetrics } from './metrics.ts';
import { RateLimiter } from './rate-limit.ts';

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
  /** Uploads streaming per API key (API_MAX_UPLOADS_PER_KEY). */
  uploads: ConcurrencyLimiter;
  metrics: ApiMetrics;
  events: TaskEvents;
  version: string;
}

export function createServices(deps: ApiDeps): Services {
  const { database, store, settings } = deps;
  const keys = new ApiKeyStore(database.db);
  return {
    database,
    store,
    settings,
    logger: deps.logger,
    records: new RecordRepository(database.db),
    tasks: new TaskManager({ database, settings }),
    generator: (scope) => new RecordFileGenerator({ db: database.db, store, settings, scope }),
    keys,
    verifier: new KeyVerifier(keys),
    limiter: new RateLimiter(settings.api.rateLimitPerMinute),
    uploads: new ConcurrencyLimiter(settings.api.maxUploadsPerKey, 'uploads or generations'),
    metrics: createMetrics(database.db),
    events: new TaskEvents(database.db, deps.eventIntervalMs ?? 500),
    version: deps.version ?? '0.0.0',
  };
}
