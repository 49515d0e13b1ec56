/** Rerunning a transaction PostgreSQL aborted as a deadlock victim or for a serialization conflict. */
import { backoffMs } from './backoff.ts';
import { isSerializationFailure } from './transient.ts';

/**
 * PostgreSQL may pick a statement as a deadlock victim when two transactions cross (cancel and completion, two
 * files swapping shared objects); the transaction was rolled back whole, so running it again is the remedy.
 */
export async function withDeadlockRetry<T>(fn: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fn();
    } catch (error) {
      const code =
        (error as { code?: string; cause?: { code?: string } }).code ??
        (error as { cause?: { code?: string } }).cause?.code;
      if (attempt >= attempts || !isSerializationFailure(code)) throw error;
      await Bun.sleep(backoffMs(attempt, { baseMs: 20, maxMs: 200 }));
    }
  }
}
