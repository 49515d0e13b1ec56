/** What the API runs with, and what each request carries through its middleware. */
import type { ApiPrincipal, Database, Logger, Settings } from '@mediaforge/core';
import type { ObjectStore } from '@mediaforge/storage';
import type { ApiMetrics } from './metrics.ts';

export interface ApiDeps {
  database: Database;
  store: ObjectStore;
  settings: Settings;
  logger: Logger;
  /** Milliseconds between task snapshots on SSE streams (default 500). */
  eventIntervalMs?: number;
  /** Milliseconds a verified key is served from the cache (default 10,000; tests shorten it). */
  keyCacheMs?: number;
  /** Version reported by /health and the OpenAPI document. */
  version?: string;
}

export interface ApiEnv {
  /** What the server passes with each request; absent under `app.request()` in tests. */
  Bindings: {
    /** Lifts the connection's idle timeout for this request (long uploads, SSE, synchronous generation). */
    keepOpen?: () => void;
    /** The typed error the body guard ended this request's body with (408 stalled, 413 too large), if it did. */
    bodyFailure?: () => unknown;
    /** The client's address, which failed key checks are limited by. */
    clientAddress?: string;
  };
  Variables: {
    requestId: string;
    /** The server's logger; handlers log through `requestLogger(c)`, which binds the request to it. */
    rootLogger: Logger;
    /** Set by `requestLogger(c)` on first use (unset before: use `requestLogger(c)`, never this directly). */
    logger: Logger | undefined;
    principal: ApiPrincipal;
    /** How the key arrived: a session cookie needs a same-origin check on writes. */
    authVia: 'bearer' | 'cookie';
    metrics: ApiMetrics;
  };
}
