/**
 * The per-user limit of open uploads as both ways of creating one apply it (an upload URL, a TUS creation): the
 * owner's own expired uploads that are safe to remove are removed first, wherever their kind keeps the bytes.
 */
import {
  type Database,
  type Logger,
  type OpenUploadLimit,
  reclaimOwnUploads,
  type Settings,
  type StagedUploadRow,
} from '@mediaforge/core';
import type { ObjectStore } from '@mediaforge/storage';
import type { TusDatastore } from './tus/tus-datastore.ts';

export function openUploadLimit(
  database: Database,
  store: ObjectStore,
  tus: TusDatastore,
  settings: Settings,
  logger: Logger,
): OpenUploadLimit {
  // The TUS server's own expiry may have removed the upload already.
  const removeTus = (id: string) =>
    tus.store.remove(id).catch((error: { status_code?: number }) => {
      if (error?.status_code !== 404) throw error;
    });
  const remove = async (row: StagedUploadRow) => {
    const removal = row.kind === 'tus' ? removeTus(row.stagingKey) : store.delete(row.stagingKey);
    await removal.catch((error: unknown) => {
      logger.warn({ err: error, uploadId: row.id }, 'cannot remove the staged bytes of an expired upload');
      throw error;
    });
  };
  return {
    max: settings.uploads.tusMaxPerUser,
    reclaim: (userId) =>
      // Direct uploads get the same grace after expiry as their sweep: a PUT may still be arriving.
      reclaimOwnUploads(database.db, userId, { graceMs: settings.uploads.urlExpirySeconds * 1000, remove }),
  };
}
