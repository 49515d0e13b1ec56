/**
 * Request headers of a queued ingest, sealed while they wait in the database: AES-256-GCM under a key derived from
 * INGEST_HEADERS_KEY, which API and worker processes share. The row holds only ciphertext; a worker opens it just
 * before the download. Without the key, queued ingests take no headers at all.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { FileProcessingError } from '../errors.ts';

const VERSION = 'v1';

function keyOf(secret: string): Buffer {
  return createHash('sha256').update(`mediaforge ingest headers\0${secret}`).digest();
}

/** @throws INVALID_HEADERS when there is no key to seal with */
export function sealHeaders(headers: Record<string, string>, secret: string | undefined): string {
  if (!secret) {
    throw new FileProcessingError(
      'Queued ingests can send request headers only when INGEST_HEADERS_KEY is set (they are stored encrypted); ' +
        'set it on the API and the workers, or ingest in the foreground with the CLI.',
      'INVALID_HEADERS',
    );
  }
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyOf(secret), iv);
  const sealed = Buffer.concat([cipher.update(JSON.stringify(headers), 'utf8'), cipher.final()]);
  return [
    VERSION,
    iv.toString('base64url'),
    sealed.toString('base64url'),
    cipher.getAuthTag().toString('base64url'),
  ].join('.');
}

/** @throws INVALID_HEADERS (not transient) when the key is missing or differs, or the value was altered */
export function openHeaders(sealed: string, secret: string | undefined): Record<string, string> {
  const [version, iv, body, tag] = sealed.split('.');
  try {
    if (!secret || version !== VERSION || !iv || !body || !tag) throw new Error('unusable');
    const decipher = createDecipheriv('aes-256-gcm', keyOf(secret), Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    const text = Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    return JSON.parse(text) as Record<string, string>;
  } catch {
    throw new FileProcessingError(
      "The ingest's request headers cannot be opened: INGEST_HEADERS_KEY is missing on this worker or differs from the API's.",
      'INVALID_HEADERS',
    );
  }
}
