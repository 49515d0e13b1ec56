/**
 * drizzle runs every statement through postgres.js unnamed (`prepare: false`). postgres.js must then learn the
 * parameter types before it can bind them, so each statement with parameters costs two round trips (Parse + Describe,
 * then Bind + Execute) and is planned anew each time. This wraps the client drizzle is given so that a statement with
 * parameters runs as a named prepared statement instead: one round trip once a connection has seen its text, and a
 * cached plan. A text's first run on a connection costs the same two round trips as before. Ingesting 2,000 small
 * files sent 4.8 messages to PostgreSQL per file before and 3.0 after (decision 0049).
 *
 * Bounded: postgres.js keeps every prepared text per connection, and PostgreSQL a plan per prepared statement per
 * backend, so only the first `MAX_PREPARED_TEXTS` distinct texts of the process are prepared (texts vary with the
 * number of items in an `IN` list or a multi-row insert); later texts, and texts over `MAX_PREPARED_LENGTH`
 * characters, run unnamed as before, as does a statement run with `UNPREPARED`. `?prepare=false` in DATABASE_URL (postgres.js reads it) turns every prepared
 * statement off, these and the queue's, for poolers that cannot keep them (PgBouncer in transaction mode before 1.21).
 */

import { FileProcessingError } from '../errors.ts';
import { ILL_FORMED_TEXT_MESSAGE } from './errors.ts';

export const MAX_PREPARED_TEXTS = 500;
export const MAX_PREPARED_LENGTH = 16_384;

/**
 * Options that keep a statement unnamed through `preparingClient`: for callers that want it planned for its
 * parameters on every run (the queue's `rows`, decision 0047), which drizzle's own `prepare: false` cannot say.
 */
export const UNPREPARED = Object.freeze({ prepare: false, unprepared: true });

/** Which texts get prepared: the first `max` distinct ones seen, each up to `MAX_PREPARED_LENGTH` characters. */
export function preparedTexts(max = MAX_PREPARED_TEXTS): (text: string) => boolean {
  const chosen = new Set<string>();
  return (text) => {
    if (chosen.has(text)) return true;
    if (chosen.size >= max || text.length > MAX_PREPARED_LENGTH) return false;
    chosen.add(text);
    return true;
  };
}

/** The process's choice, shared by every client so that the bound holds per process. */
const processTexts = preparedTexts();

type Call = (...args: unknown[]) => unknown;

/**
 * Refuses a text parameter that is not valid Unicode (a lone surrogate, which a JSON body can carry as `\ud800`):
 * the driver would encode it as U+FFFD and store a value the caller never sent. Checked here, where every statement
 * of both drivers passes, so no route or library call can skip it.
 */
function checkParams(params: unknown): void {
  if (!Array.isArray(params)) return;
  for (const param of params) {
    // An array parameter (a column's values in one batched statement, fixed-statements.ts) is checked value by value.
    if (Array.isArray(param)) checkParams(param);
    else if (typeof param === 'string' && !param.isWellFormed()) {
      throw new FileProcessingError(ILL_FORMED_TEXT_MESSAGE, 'INVALID_INPUT');
    }
  }
}

/**
 * A view of a postgres.js client (or of a transaction's) whose statements with parameters run prepared. Transactions
 * and savepoints hand their callback a wrapped client too. Statements without parameters are left alone (they use the
 * simple protocol, one round trip, and may hold several statements, as migrations do).
 */
export function preparingClient<C extends object>(client: C, prepare: (text: string) => boolean = processTexts): C {
  return new Proxy(client, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      if (property === 'unsafe') {
        return (text: string, params?: unknown[], options?: Record<string, unknown>) => {
          checkParams(params);
          return (value as Call).call(
            target,
            text,
            params,
            params && params.length > 0 && options?.prepare !== true && !options?.unprepared && prepare(text)
              ? { ...options, prepare: true }
              : options,
          );
        };
      }
      // PGlite's statements (it prepares on its own).
      if (property === 'query') {
        return (text: string, params?: unknown[], ...rest: unknown[]) => {
          checkParams(params);
          return (value as Call).call(target, text, params, ...rest);
        };
      }
      if (property === 'begin' || property === 'savepoint' || property === 'transaction') {
        return (...args: unknown[]) =>
          (value as Call).apply(
            target,
            args.map((arg) =>
              typeof arg === 'function'
                ? (inner: object, ...rest: unknown[]) => (arg as Call)(preparingClient(inner, prepare), ...rest)
                : arg,
            ),
          );
      }
      return value.bind(target);
    },
  });
}
