/** Who may see which record, and deleting a record with its object. */
import { keyReferences, parseUid, RecordNotFoundError } from '@mediaforge/core';
import type { Services } from '../services.ts';

/** The record if this key may see it; another user's record looks missing. */
export async function ownedRecord(services: Services, uid: string, principal: { userId: string; admin: boolean }) {
  const record = await services.records.get(uid);
  if (!principal.admin && record.userId !== principal.userId) throw new RecordNotFoundError(parseUid(uid));
  return record;
}

/** Deletes the row first (nothing then points at a missing object), then the object unless another record shares it. */
export async function deleteRecordAndObject(services: Services, uid: string, ownerId: string | undefined) {
  const record = await services.records.delete(uid, ownerId === undefined ? {} : { ownerId });
  let objectDeleted = false;
  if (record.storageKey && (await keyReferences(services.database.db, record.storageKey)) === 0) {
    await services.store.delete(record.storageKey);
    objectDeleted = true;
  }
  return { record, objectDeleted };
}
