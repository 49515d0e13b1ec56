/** Keyset pagination cursors: an opaque encoding of the last row's (created_at, uid). */
import { FileProcessingError } from '../errors.ts';
import { isUid } from '../uid.ts';

export interface CursorPosition {
  createdAt: Date;
  uid: string;
}

export function encodeCursor({ createdAt, uid }: CursorPosition): string {
  return Buffer.from(`${createdAt.toISOString()}|${uid}`).toString('base64url');
}

export function decodeCursor(cursor: string): CursorPosition {
  const [iso, uid] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(iso ?? '');
  if (!uid || !isUid(uid) || Number.isNaN(createdAt.getTime())) {
    throw new FileProcessingError(
      'Invalid pagination cursor; pass the nextCursor of a previous page.',
      'INVALID_CURSOR',
    );
  }
  return { createdAt, uid };
}
