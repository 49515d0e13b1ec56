/**
 * Which failures are worth trying again: one list for network errors, HTTP statuses and database errors, shared by
 * downloads, the storage drivers, the database layer and the queue, so they cannot drift apart.
 */

/** Socket, DNS and resource errors (node, Bun, undici) that a later attempt may not meet. */
const TRANSIENT_SYSTEM_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'EMFILE',
  'ENFILE',
  'EBUSY',
  'EAGAIN',
  // The AWS SDK names its own timeouts instead of giving them a system code.
  'TimeoutError',
  'RequestTimeout',
]);

/** postgres.js connection codes and SQLSTATEs worth a retry; class 08 (connection exception) is matched as a prefix. */
const TRANSIENT_DATABASE_CODES: ReadonlySet<string> = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up)
  '53300', // too_many_connections
]);

/** SQLSTATEs of a transaction PostgreSQL chose to abort; rerunning it as it was is the documented remedy. */
const SERIALIZATION_CODES: ReadonlySet<string> = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
]);

/** True for a system or SDK error code (`error.code` or `error.name`) that a retry may get past. */
export function isTransientSystemCode(code: string | undefined): boolean {
  return code !== undefined && TRANSIENT_SYSTEM_CODES.has(code);
}

/**
 * True for a network failure: a transient code or name, or (for Bun's `node:http`, which closes sockets without a
 * code) a message about a closed or reset socket.
 */
export function isTransientNetworkError(error: { code?: unknown; name?: unknown; message?: unknown }): boolean {
  if (isTransientSystemCode(asString(error.code)) || isTransientSystemCode(asString(error.name))) return true;
  return /socket|closed|reset|aborted/i.test(asString(error.message) ?? '');
}

/** HTTP statuses a server uses for "not now": 408 Request Timeout, 425 Too Early, 429 Too Many Requests, any 5xx. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || (status >= 500 && status < 600);
}

/** True for a deadlock or serialization failure: the transaction can be rerun as it was. */
export function isSerializationFailure(code: string | undefined): boolean {
  return code !== undefined && SERIALIZATION_CODES.has(code);
}

/** True for a database driver code or SQLSTATE that a retry may get past (lost connection, restart, conflict). */
export function isTransientDatabaseCode(code: string | undefined): boolean {
  if (code === undefined) return false;
  return (
    TRANSIENT_DATABASE_CODES.has(code) ||
    isSerializationFailure(code) ||
    isTransientSystemCode(code) ||
    code.startsWith('08')
  );
}

function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
