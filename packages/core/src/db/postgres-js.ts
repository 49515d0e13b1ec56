/**
 * The postgres.js client under a drizzle database or transaction, for the few hot statements that run prepared
 * (`unsafe(text, params, { prepare: true })`): drizzle runs raw SQL unnamed, which postgres.js sends in two round
 * trips and the server plans anew each time. PGlite has no such client: callers fall back to drizzle there.
 */
import type { Db } from './database.ts';

/** The calls of a postgres.js client the prepared statements use. */
export interface PostgresJsClient {
  unsafe(
    text: string,
    params: unknown[],
    options: { prepare: boolean },
  ): Promise<unknown[]> & { values(): Promise<unknown[][]> };
}

/** The postgres.js client under a drizzle database (`$client`) or transaction (its session's), if that is the driver. */
export function postgresJsOf(db: Pick<Db, 'execute'>): PostgresJsClient | undefined {
  const holder = db as { $client?: unknown; session?: { client?: unknown } };
  const client = (holder.$client ?? holder.session?.client) as Partial<PostgresJsClient> | undefined;
  return typeof client?.unsafe === 'function' ? (client as PostgresJsClient) : undefined;
}
