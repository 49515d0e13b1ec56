/** Anything thrown, as one of our typed errors, so every caller reads `code` and `transient` without guessing. */
import { asDatabaseError } from './db/errors.ts';
import { FileProcessingError } from './errors.ts';
import { isTransientSystemCode } from './retry/transient.ts';

/**
 * Ours as they are (storage errors included: they extend FileProcessingError), database failures typed with
 * `transient` set, network failures (by system code) a transient `NETWORK_ERROR`, and anything else an
 * `INTERNAL_ERROR` that is not retried: an unknown failure is a bug, and a
 * bug does not go away on the next attempt.
 */
export function asTypedError(thrown: unknown): FileProcessingError {
  if (thrown instanceof FileProcessingError) return thrown;
  const database = asDatabaseError(thrown);
  if (database) return database;
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  // A socket reset or timeout that escaped a driver's own mapping (e.g. mid-stream) is a blip, not a bug.
  const code = (thrown as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && isTransientSystemCode(code)) {
    return new FileProcessingError(message, 'NETWORK_ERROR', { cause: thrown, transient: true, details: { code } });
  }
  return new FileProcessingError(message, 'INTERNAL_ERROR', { cause: thrown });
}
