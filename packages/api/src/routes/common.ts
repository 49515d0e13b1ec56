/** Pieces every route module uses: the app type, the standard error responses and JSON bodies. */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { ApiEnv } from '../env.ts';
import { validationError } from '../errors.ts';
import { ErrorSchema } from '../schemas.ts';

/** A sub-app whose request validation failures become 400s in the one error shape. */
export function router(): OpenAPIHono<ApiEnv> {
  return new OpenAPIHono<ApiEnv>({
    defaultHook: (result, _c) => {
      if (!result.success) throw validationError(result.error.issues, `request ${result.target}`);
    },
  });
}

const errorContent = { 'application/json': { schema: ErrorSchema } };

export function errors(...statuses: (400 | 401 | 403 | 404 | 409 | 413 | 415 | 416 | 422 | 429 | 503)[]) {
  const descriptions: Record<number, string> = {
    400: 'Invalid request',
    401: 'Missing, invalid or revoked API key',
    403: 'Not allowed for this key',
    404: 'Not found (or owned by another user)',
    409: 'Conflicts with the current state',
    413: 'Too large',
    415: 'Unsupported file type',
    416: 'Range not satisfiable',
    422: 'File failed integrity validation',
    429: 'Rate limited (see Retry-After)',
    503: 'Database or storage unavailable',
  };
  const all = [...new Set([401, 429, ...statuses])];
  return Object.fromEntries(
    all.map((status) => [status, { description: descriptions[status], content: errorContent }]),
  );
}

export const bearer = [{ bearer: [] }];

export function json<T>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}
