/** Column helpers shared by every table. */
import { timestamp } from 'drizzle-orm/pg-core';

/** Millisecond precision so a JavaScript Date round-trips exactly (keyset cursors depend on it). */
export const timestampMs = (name: string) => timestamp(name, { withTimezone: true, precision: 3 });
