/**
 * Webhook signatures: HMAC-SHA256 over `<timestamp>.<body>`, sent as `Mediaforge-Signature: t=<unix seconds>,v1=<hex>`.
 * A receiver recomputes it with its secret (`verifyWebhook`) and refuses stale timestamps, so a captured request
 * cannot be replayed later. Hand-written on `node:crypto` (a dozen lines): see docs/webhooks.md for why.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { FileProcessingError } from '../../errors.ts';

export const SIGNATURE_HEADER = 'mediaforge-signature';
export const DELIVERY_HEADER = 'mediaforge-delivery';
export const EVENT_HEADER = 'mediaforge-event';
/** How old (or how far in the future) a signed timestamp may be. Default 5 minutes. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** What a delivery's body holds. `id` is the same on every attempt of one delivery: receivers dedupe by it. */
export interface WebhookEvent {
  id: string;
  type: 'task.finished' | 'item.finished';
  taskId: string;
  createdAt: string;
  data: Record<string, unknown>;
}

export class WebhookSignatureError extends FileProcessingError {
  constructor(reason: string) {
    super(`Webhook refused: ${reason}.`, 'WEBHOOK_SIGNATURE_INVALID', { details: { reason } });
  }
}

const hmac = (secret: string, timestamp: number, body: string) =>
  createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');

/** The `Mediaforge-Signature` header value for `body` signed at `timestamp` (unix seconds). */
export function signWebhook(body: string, secret: string, timestamp = Math.floor(Date.now() / 1000)): string {
  return `t=${timestamp},v1=${hmac(secret, timestamp, body)}`;
}

export interface VerifyWebhookInput {
  /** The raw request body, exactly as received (verify before parsing). */
  body: string;
  /** The `Mediaforge-Signature` header. */
  signature: string | null | undefined;
  secret: string;
  toleranceSeconds?: number;
  /** Unix seconds; for tests. */
  now?: number;
}

/**
 * Checks a delivery's signature and age and returns its parsed event.
 * @throws WebhookSignatureError when the header is missing or malformed, the HMAC differs, or the timestamp is
 * outside the tolerance (a replay).
 * @example
 * const event = verifyWebhook({ body: await request.text(), signature: request.headers.get('mediaforge-signature'), secret });
 */
export function verifyWebhook(input: VerifyWebhookInput): WebhookEvent {
  const header = input.signature ?? '';
  if (header.length === 0 || header.length > 1024) throw new WebhookSignatureError('no signature header');
  const parts = new Map<string, string[]>();
  for (const part of header.split(',')) {
    const [name, value] = part.trim().split('=', 2);
    if (name && value) parts.set(name, [...(parts.get(name) ?? []), value]);
  }
  const timestamp = Number(parts.get('t')?.[0]);
  if (!Number.isSafeInteger(timestamp)) throw new WebhookSignatureError('the signature has no timestamp');
  const now = input.now ?? Math.floor(Date.now() / 1000);
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(now - timestamp) > tolerance) {
    throw new WebhookSignatureError(`the timestamp is ${now - timestamp} s old, outside ±${tolerance} s`);
  }
  const expected = Buffer.from(hmac(input.secret, timestamp, input.body), 'hex');
  const matches = (parts.get('v1') ?? []).some((candidate) => {
    const given = Buffer.from(candidate, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) throw new WebhookSignatureError('the signature does not match');
  return JSON.parse(input.body) as WebhookEvent;
}

/**
 * The webhook secret of an API key when a task names none of its own: the hex SHA-256 of the key's secret part (the
 * text after its second `_`), which the server stores and the key's holder can compute. Used by the API.
 * @example webhookSecretForKey('mfk_0123456789ab_…') // 64 hex characters
 */
export function webhookSecretForKey(apiKey: string): string {
  const secret = apiKey.split('_').slice(2).join('_');
  return createHash('sha256').update(secret).digest('hex');
}
