/** Media range options of `records list` (`--min-duration`…) and the short media summary commands print. */
import type { MediaRangeFilter, MediaRecord } from '@mediaforge/core';
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

/** `320×240 25fps 2.0s`, `48kHz 2ch 3.1s`, or `-`. */
export function mediaSummary(record: Pick<MediaRecord, 'width' | 'height' | 'durationSeconds' | 'mediaInfo'>): string {
  const info = record.mediaInfo;
  const parts = [
    record.width && record.height ? `${record.width}×${record.height}` : '',
    info?.frameRate ? `${info.frameRate}fps` : '',
    !record.width && info?.sampleRate ? `${info.sampleRate / 1000}kHz` : '',
    !record.width && info?.channels ? `${info.channels}ch` : '',
    record.durationSeconds ? `${record.durationSeconds.toFixed(1)}s` : '',
  ].filter(Boolean);
  return parts.join(' ') || '-';
}
