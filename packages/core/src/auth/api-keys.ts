/**
 * API keys for the HTTP API. A key reads `mfk_<id>_<secret>`: the id is public (listings, logs, revocation), the
 * secret is shown once at creation and only its SHA-256 is stored. Verification is one primary-key lookup and a
 * constant-time comparison. A revocation is announced on `API_KEYS_CHANNEL` (NOTIFY, sent when it commits) so
 * servers that cache verified keys drop it at once.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import { type ApiKeyRow, apiKeys } from '../db/schema.ts';
import { FileProcessingError } from '../errors.ts';

const KEY_PATTERN = /^mfk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

/** What a verified key grants: whose records and tasks it sees, and whether it sees everyone's. */
export interface ApiPrincipal {
  keyId: string;
  userId: string;
  admin: boolean;
}

export interface ApiKeyInfo {
  id: string;
  userId: string;
  admin: boolean;
  name: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export class ApiKeyNotFoundError extends FileProcessingError {
  constructor(readonly keyId: string) {
    super(`No API key with id ${keyId} (see mediaforge keys list).`, 'API_KEY_NOT_FOUND', { details: { keyId } });
  }
}

/** NOTIFY channel whose payload is the id of a key just revoked. */
export const API_KEYS_CHANNEL = 'mediaforge_api_keys';

const USER_ID = /^[\w.@:+-]{1,200}$/;

export class ApiKeyStore {
  constructor(private readonly db: Db) {}

  /** Creates a key and returns its full text; that text is never available again. */
  async create(input: { userId: string; admin?: boolean; name?: string }): Promise<{ key: string; info: ApiKeyInfo }> {
    if (!USER_ID.test(input.userId)) {
      throw new FileProcessingError(
        `Invalid user id ${JSON.stringify(input.userId)}: use 1–200 letters, digits and . _ @ : + -`,
        'VALIDATION_ERROR',
        { details: { userId: input.userId } },
      );
    }
    const id = randomBytes(6).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const [row] = await this.db
      .insert(apiKeys)
      .values({
        id,
        secretHash: hashSecret(secret),
        userId: input.userId,
        admin: input.admin ?? false,
        name: input.name ?? null,
      })
      .returning();
    if (!row) throw new FileProcessingError('API key insert returned nothing', 'DATABASE_ERROR');
    return { key: `mfk_${id}_${secret}`, info: toInfo(row) };
  }

  /** The principal for a presented key, or `null` when it is malformed, unknown, wrong or revoked. */
  async verify(presented: string): Promise<ApiPrincipal | null> {
    const match = KEY_PATTERN.exec(presented.trim());
    if (!match) return null;
    const [, id, secret] = match as unknown as [string, string, string];
    const [row] = await this.db.select().from(apiKeys).where(eq(apiKeys.id, id));
    if (!row || row.revokedAt) return null;
    const expected = Buffer.from(row.secretHash, 'hex');
    const actual = Buffer.from(hashSecret(secret), 'hex');
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return null;
    return { keyId: row.id, userId: row.userId, admin: row.admin };
  }

  /** Records that a key was used (callers throttle this; it is informational). */
  async touch(keyId: string, at = new Date()): Promise<void> {
    await this.db.update(apiKeys).set({ lastUsedAt: at }).where(eq(apiKeys.id, keyId));
  }

  async list({
    userId,
    includeRevoked = false,
  }: {
    userId?: string;
    includeRevoked?: boolean;
  } = {}): Promise<ApiKeyInfo[]> {
    const rows = await this.db
      .select()
      .from(apiKeys)
      .where(
        and(userId ? eq(apiKeys.userId, userId) : undefined, includeRevoked ? undefined : isNull(apiKeys.revokedAt)),
      )
      .orderBy(asc(apiKeys.createdAt), asc(apiKeys.id));
    return rows.map(toInfo);
  }

  /** Revokes a key (idempotent) and announces it on API_KEYS_CHANNEL. @throws ApiKeyNotFoundError */
  async revoke(keyId: string): Promise<ApiKeyInfo> {
    const id = keyId.replace(/^mfk_/, '').split('_')[0] ?? '';
    const [row] = await this.db.transaction(async (tx) => {
      const revoked = await tx
        .update(apiKeys)
        .set({ revokedAt: new Date() })
        .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
        .returning();
      if (revoked.length > 0) await tx.execute(sql`select pg_notify(${API_KEYS_CHANNEL}, ${id})`);
      return revoked;
    });
    if (row) return toInfo(row);
    const [existing] = await this.db.select().from(apiKeys).where(eq(apiKeys.id, id));
    if (!existing) throw new ApiKeyNotFoundError(keyId);
    return toInfo(existing);
  }
}

/** The public id of a presented key, for logs (never the secret); `undefined` when it is not a key's shape. */
export function apiKeyId(presented: string): string | undefined {
  return KEY_PATTERN.exec(presented.trim())?.[1];
}

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

function toInfo(row: ApiKeyRow): ApiKeyInfo {
  const { secretHash: _hidden, ...info } = row;
  return info;
}
