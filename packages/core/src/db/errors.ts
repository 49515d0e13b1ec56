/**
 * Database failures as typed errors. drizzle wraps a driver error in a `DrizzleQueryError` whose message is the
 * whole SQL text and its parameters; what a user (or a job's error column) needs is the driver's reason and whether
 * trying again can help: a lost connection, a restarting server or a serialization failure can, a constraint
 * violation cannot.
 */
import { DrizzleQueryError } from 'drizzle-orm';
import { DatabaseError, FileProcessingError } from '../errors.ts';
import { isTransientDatabaseCode, isTransientNetworkError } from '../retry/transient.ts';

interface DriverError {
  code?: unknown;
  message?: unknown;
  /** PostgreSQL's DETAIL line, when it sent one ("Unicode low surrogate must follow a high surrogate."). */
  detail?: unknown;
  cause?: unknown;
}

/** What a caller is told when a text value is not valid Unicode (checked before sending, or refused by PostgreSQL). */
export const ILL_FORMED_TEXT_MESSAGE =
  'Invalid text: values must be valid Unicode; a lone surrogate (such as \\ud800 in JSON) is not.';

/** The driver error inside a drizzle (or bare postgres.js) failure, if `error` is one. */
function driverError(error: unknown): DriverError | undefined {
  if (!(error instanceof Error) || error instanceof FileProcessingError) return undefined;
  if (error instanceof DrizzleQueryError)
    return (error.cause as DriverError | undefined) ?? { message: 'query failed' };
  // A connection the driver could not open (postgres.js passes node:net's error through as it is).
  const net = error as DriverError & { syscall?: unknown };
  if (net.syscall === 'connect' && typeof net.code === 'string' && isTransientDatabaseCode(net.code)) return net;
  if (
    error.name === 'PostgresError' ||
    (typeof (error as DriverError).code === 'string' && /^CONNECT/.test(String((error as DriverError).code)))
  ) {
    return error as DriverError;
  }
  return undefined;
}

/**
 * A typed error for a database failure (else undefined), with the driver's reason and no SQL: a `DatabaseError`,
 * transient when retrying can help; or `INVALID_INPUT` when PostgreSQL refused a value (SQLSTATE class 22: a NUL
 * character in text, a number out of range), which is the caller's to fix.
 */
export function asDatabaseError(error: unknown): FileProcessingError | undefined {
  // A check made before the statement was sent (a parameter that is not valid Unicode), wrapped by drizzle.
  if (error instanceof DrizzleQueryError && error.cause instanceof FileProcessingError) return error.cause;
  const driver = driverError(error);
  if (!driver) return undefined;
  const code = typeof driver.code === 'string' ? driver.code : '';
  const reason = typeof driver.message === 'string' && driver.message ? driver.message : 'query failed';
  if (code.startsWith('22')) {
    // The caller's value, said in the caller's terms: no driver code or server wording in what a client sees (the
    // cause keeps both for the logs).
    const detail = typeof driver.detail === 'string' ? driver.detail : '';
    return new FileProcessingError(refusedValueMessage(code, `${reason} ${detail}`), 'INVALID_INPUT', {
      cause: error,
    });
  }
  return new DatabaseError(`Database error: ${reason}${code ? ` (${code})` : ''}`, {
    transient: isTransientDatabaseCode(code),
    cause: error,
    details: code ? { driverCode: code } : {},
  });
}

/** SQLSTATE class 22 (data exception) as a message about the input. */
function refusedValueMessage(code: string, reason: string): string {
  if (code === '22021' || code === '22P05' || /0x00|\\u0000/.test(reason)) {
    return 'Invalid text: values may not contain NUL (\\u0000) characters or invalid UTF-8.';
  }
  // jsonb refuses an escaped lone surrogate ("\ud800") as 22P02, naming it only in its DETAIL line.
  if (/surrogate|Unicode escape/i.test(reason)) return ILL_FORMED_TEXT_MESSAGE;
  if (code === '22003') return 'A number is out of range.';
  if (code === '22001') return 'A text value is too long.';
  if (code === '22007' || code === '22008') return 'Invalid date or time.';
  if (code === '22P02') return 'A value has the wrong form for its field.';
  return 'A value was refused as invalid.';
}

/**
 * True when a database call failed in a way a later attempt may not meet: a transient driver error, or a connection
 * reset or closed under it (postgres.js passes `read ECONNRESET` through as node:net's error, which `asDatabaseError`
 * does not claim, since the same error from elsewhere is not the database's).
 */
export function isTransientDatabaseFailure(error: unknown): boolean {
  // The driver's own verdict wins when it has one ("current transaction is aborted" is not a lost connection).
  const claimed = asDatabaseError(error);
  if (claimed) return claimed.transient;
  if (error instanceof FileProcessingError) return error.transient;
  return error instanceof Error && isTransientNetworkError(error as Error & { code?: unknown });
}
