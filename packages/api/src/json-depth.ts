/** JSON bodies nested deeper than a bound are refused (typed 400) before anything recursive parses or walks them. */
import type { MiddlewareHandler } from 'hono';
import type { ApiEnv } from './env.ts';
import { ApiError } from './errors.ts';

/** Deepest nesting of objects and arrays a JSON request body may have. */
export const MAX_JSON_DEPTH = 64;

const JSON_TYPE = /^application\/([\w.-]+\+)?json\b/i;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The deepest nesting of `[`/`{` in JSON text (strings skipped), read in one pass without recursion. */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 0x5c) i++;
      else if (char === 0x22) inString = false;
    } else if (char === 0x22) inString = true;
    else if (char === 0x7b || char === 0x5b) deepest = Math.max(deepest, ++depth);
    else if (char === 0x7d || char === 0x5d) depth--;
  }
  return deepest;
}

/**
 * Reads a JSON body (Hono caches it for the validator) and refuses it when it is not UTF-8 or nests past `maxDepth`.
 */
export function jsonDepthLimit(maxDepth = MAX_JSON_DEPTH): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    if (!JSON_TYPE.test(c.req.header('content-type') ?? '') || ['GET', 'HEAD'].includes(c.req.method)) {
      return next();
    }
    // The bytes first (Hono keeps them for the validator): bytes that are not UTF-8 would be read as U+FFFD and
    // stored as text the client never sent.
    const bytes = await c.req.arrayBuffer();
    let text: string;
    try {
      text = strictUtf8.decode(bytes);
    } catch {
      throw new ApiError(400, 'INVALID_INPUT', 'The JSON body is not valid UTF-8.');
    }
    if (jsonDepth(text) > maxDepth) {
      throw new ApiError(400, 'JSON_TOO_DEEP', `JSON bodies may nest objects and arrays at most ${maxDepth} deep.`, {
        maxDepth,
      });
    }
    await next();
  };
}
