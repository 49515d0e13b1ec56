/** The webhook secret of an API key, for tasks queued with it that name no secret of their own. */
import { sql } from 'drizzle-orm';
import { ApiKeyNotFoundError } from '../../auth/api-keys.ts';
import type { Db } from '../../db/database.ts';
import { type Executor, rows } from '../rows.ts';

/**
 * The key's stored SHA-256 of its secret part, which `webhookSecretForKey(apiKey)` computes from the key itself: the
 * holder can verify deliveries without being told another secret.
 * @throws ApiKeyNotFoundError
 */
export async function webhookSecretOfKeyId(db: Db, keyId: string): Promise<string> {
  const [row] = await rows<{ secret_hash: string }>(
    db as Executor,
    sql`select secret_hash from api_keys where id = ${keyId}`,
  );
  if (!row) throw new ApiKeyNotFoundError(keyId);
  return row.secret_hash;
}
