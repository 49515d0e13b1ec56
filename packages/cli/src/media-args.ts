/** Media range options of `records list` (`--min-duration`…), checked by the core like the API's. */
import type { MediaRangeFilter } from '@mediaforge/core';
import { CLIError } from './cli-error.ts';

const RANGE_OPTIONS = {
  'min-duration': ['minDuration', 'Only records at least this many seconds long'],
  'max-duration': ['maxDuration', 'Only records at most this many seconds long'],
  'min-width': ['minWidth', 'Only records at least this many pixels wide'],
  'max-width': ['maxWidth', 'Only records at most this many pixels wide'],
  'min-height': ['minHeight', 'Only records at least this many pixels high'],
  'max-height': ['maxHeight', 'Only records at most this many pixels high'],
} as const;

type RangeOption = keyof typeof RANGE_OPTIONS;

export const mediaRangeArgs = Object.fromEntries(
  Object.entries(RANGE_OPTIONS).map(([name, [, description]]) => [name, { type: 'string', description }]),
) as Record<RangeOption, { type: 'string'; description: string }>;

/** The filter the options name; the core checks the bounds (min ≤ max, 0 to 2^31-1). */
export function parseMediaRange(args: Partial<Record<RangeOption, unknown>>): MediaRangeFilter {
  const filter: MediaRangeFilter = {};
  for (const [name, [key]] of Object.entries(RANGE_OPTIONS) as [RangeOption, (typeof RANGE_OPTIONS)[RangeOption]][]) {
    const raw = args[name];
    if (raw === undefined) continue;
    const value = Number(String(raw).trim());
    if (String(raw).trim() === '' || !Number.isFinite(value) || value < 0) {
      throw new CLIError(`--${name} must be a number >= 0 (got ${JSON.stringify(raw)})`);
    }
    filter[key] = value;
  }
  return filter;
}
