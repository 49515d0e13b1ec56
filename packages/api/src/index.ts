export { type AppType, createApp } from './app.ts';
export { SESSION_COOKIE } from './auth.ts';
export { AUTH_FAILURE_LIMITS } from './auth-failures.ts';
export type { ApiDeps } from './env.ts';
export { ApiError, type ErrorBody } from './errors.ts';
export * from './schemas.ts';
export { type ServeOptions, type StartedServer, startServer } from './server.ts';
export { MAX_EVENT_STREAMS_PER_KEY } from './services.ts';
export * from './task-item-schemas.ts';
