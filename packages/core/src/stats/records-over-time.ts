/** Records created over time by media type (and the bytes of their files), bucketed in SQL over `created_at`. */
import { sql } from 'drizzle-orm';
import { MEDIA_TYPES } from '../db/schema.ts';
import { type Executor, rows } from '../queue/rows.ts';
import type { Scope } from '../scope.ts';
import { type BucketRow, type Series, type TimeWindow, toSeries } from './time-window.ts';

/** One series per media type, always all four and in the same order, so a type keeps its colour between charts. */
export async function recordsOverTime(db: Executor, window: TimeWindow, scope: Scope): Promise<Series[]> {
  const start = window.start.getTime() / 1000;
  const end = window.end.getTime() / 1000;
  const seconds = window.bucketMs / 1000;
  const found = await rows<BucketRow>(
    db,
    sql`
    select media_type::text as key,
           floor((extract(epoch from created_at) - ${start}::double precision) / ${seconds}::double precision)::int
             as bucket,
           count(*)::int as items,
           coalesce(sum(file_size), 0)::text as bytes
    from records
    where created_at >= to_timestamp(${start}::double precision)
      and created_at < to_timestamp(${end}::double precision)
      ${scope.all ? sql`` : sql`and user_id = ${scope.userId}`}
    group by 1, 2`,
  );
  return toSeries(found, window, MEDIA_TYPES);
}
