export { type AppType, createApp } from './app.ts';
export { SESSION_COOKIE } from './auth.ts';
export type { ApiDeps } from './env.ts';
export { ApiError, type ErrorBody } from './errors.ts';
export * from './schemas.ts';
export { type ServeOptions, type StartedServer, startServer } from './server.ts';
