/** Fixed time windows cut into equal buckets, for charts of what happened over the last hour, six hours or day. */

export interface TimeWindow {
  /** Start of the first bucket (inclusive). */
  start: Date;
  /** End of the last bucket (exclusive): the end of the bucket `now` falls in. */
  end: Date;
  bucketMs: number;
  buckets: number;
}

/** The windows the dashboard offers: a bounded number of buckets, so a chart's query and SVG stay small. */
export const WINDOW_PRESETS = {
  '1h': { bucketMs: 60_000, buckets: 60 },
  '6h': { bucketMs: 5 * 60_000, buckets: 72 },
  '24h': { bucketMs: 15 * 60_000, buckets: 96 },
} as const;

export type WindowPreset = keyof typeof WINDOW_PRESETS;

export function isWindowPreset(value: unknown): value is WindowPreset {
  return typeof value === 'string' && Object.hasOwn(WINDOW_PRESETS, value);
}

/** The window ending with the bucket that holds `now`; buckets align to multiples of their size since the epoch. */
export function timeWindow(preset: WindowPreset, now: Date = new Date()): TimeWindow {
  const { bucketMs, buckets } = WINDOW_PRESETS[preset];
  const end = (Math.floor(now.getTime() / bucketMs) + 1) * bucketMs;
  return { start: new Date(end - buckets * bucketMs), end: new Date(end), bucketMs, buckets };
}

/** Start of every bucket of the window, oldest first. */
export function bucketStarts(window: TimeWindow): Date[] {
  return Array.from({ length: window.buckets }, (_, i) => new Date(window.start.getTime() + i * window.bucketMs));
}

/** How much happened in one bucket: items (or records) and their bytes. */
export interface BucketTotals {
  items: number;
  bytes: number;
}

/** One line of a chart: a key (task id, worker id, media type) and one total per bucket of the window. */
export interface Series {
  key: string;
  points: BucketTotals[];
}

/** A row of a bucketed query: which series, which bucket (0-based from the window's start), and its totals. */
export interface BucketRow {
  key: unknown;
  bucket: unknown;
  items: unknown;
  bytes: unknown;
}

/**
 * Sparse rows (only buckets where something happened) as dense series, one point per bucket, so a quiet minute is
 * drawn as zero rather than skipped. Series come in the order of `keys` when given, else by total items, largest first.
 */
export function toSeries(rows: readonly BucketRow[], window: TimeWindow, keys?: readonly string[]): Series[] {
  const byKey = new Map<string, BucketTotals[]>();
  const empty = () => Array.from({ length: window.buckets }, () => ({ items: 0, bytes: 0 }));
  for (const key of keys ?? []) byKey.set(key, empty());
  for (const row of rows) {
    const key = String(row.key);
    const bucket = Number(row.bucket);
    if (!Number.isInteger(bucket) || bucket < 0 || bucket >= window.buckets) continue;
    let points = byKey.get(key);
    if (!points) {
      if (keys) continue;
      points = empty();
      byKey.set(key, points);
    }
    const point = points[bucket] as BucketTotals;
    point.items += Number(row.items);
    point.bytes += Number(row.bytes);
  }
  const series = [...byKey].map(([key, points]) => ({ key, points }));
  if (keys) return series;
  const total = (s: Series) => s.points.reduce((sum, point) => sum + point.items, 0);
  return series.sort((a, b) => total(b) - total(a) || a.key.localeCompare(b.key));
}
