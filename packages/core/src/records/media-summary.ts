/** A record's media in a few words, as the CLI's tables and the dashboard show it. */
import type { MediaRecord } from './record.ts';

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
