/**
 * Range filters on a record's media columns (duration, width, height). Bounds are checked here, in the core, so the
 * CLI and the API refuse the same things: finite, non-negative numbers, each minimum at most its maximum.
 */
import { gte, lte, type SQL } from 'drizzle-orm';
import { records } from '../db/schema.ts';
import { FileProcessingError } from '../errors.ts';

export interface MediaRangeFilter {
  /** Seconds. */
  minDuration?: number;
  maxDuration?: number;
  /** Pixels. */
  minWidth?: number;
  maxWidth?: number;
  minHeight?: number;
  maxHeight?: number;
}

/** Largest bound accepted: a day of media in seconds, and far beyond any image in pixels. */
export const MAX_MEDIA_BOUND = 2_147_483_647;

const RANGES = [
  ['minDuration', 'maxDuration', records.durationSeconds],
  ['minWidth', 'maxWidth', records.width],
  ['minHeight', 'maxHeight', records.height],
] as const;

/** @throws VALIDATION_ERROR for a bound that is not a finite number from 0 to MAX_MEDIA_BOUND, or min > max */
export function mediaRangeConditions(filter: MediaRangeFilter): SQL[] {
  const conditions: SQL[] = [];
  for (const [minKey, maxKey, column] of RANGES) {
    const min = bound(filter, minKey);
    const max = bound(filter, maxKey);
    if (min !== undefined && max !== undefined && min > max) {
      throw new FileProcessingError(`${minKey} (${min}) is above ${maxKey} (${max}).`, 'VALIDATION_ERROR', {
        details: { [minKey]: min, [maxKey]: max },
      });
    }
    if (min !== undefined) conditions.push(gte(column, min));
    if (max !== undefined) conditions.push(lte(column, max));
  }
  return conditions;
}

function bound(filter: MediaRangeFilter, key: keyof MediaRangeFilter): number | undefined {
  const value = filter[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_MEDIA_BOUND) {
    throw new FileProcessingError(
      `${key} must be a number from 0 to ${MAX_MEDIA_BOUND} (got ${String(value)}).`,
      'VALIDATION_ERROR',
      { details: { [key]: value } },
    );
  }
  return value;
}
