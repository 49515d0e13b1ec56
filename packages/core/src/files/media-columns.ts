/** The record columns a file's media metadata fills: the filterable numbers typed, the whole as typed JSON. */
import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import { records } from '../db/schema.ts';
import type { FormatInfo } from '../media/validate/media-info.ts';

const INT_MAX = 2_147_483_647;

export function mediaColumns(details: FormatInfo) {
  const dimension = (value: number | undefined) =>
    value !== undefined && Number.isInteger(value) && value > 0 && value <= INT_MAX ? value : null;
  return {
    mediaInfo: details,
    width: dimension(details.width),
    height: dimension(details.height),
    durationSeconds:
      details.durationSeconds !== undefined && Number.isFinite(details.durationSeconds)
        ? details.durationSeconds
        : null,
  };
}

/** Sets only the media columns of a record that still holds `storageKey`; false when it no longer does. */
export async function setMediaColumns(db: Db, uid: string, storageKey: string, details: FormatInfo): Promise<boolean> {
  const [row] = await db
    .update(records)
    .set(mediaColumns(details))
    .where(and(eq(records.uid, uid), eq(records.storageKey, storageKey)))
    .returning({ uid: records.uid });
  return row !== undefined;
}
