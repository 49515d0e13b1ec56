/** The media rows of the dashboard's record page: original name, dimensions, duration, streams, audio, orientation. */
import { type MediaRecord, mediaSummary } from '@mediaforge/core';

const ORIENTATIONS: Record<number, string> = {
  1: 'as stored',
  2: 'mirrored',
  3: 'rotated 180°',
  4: 'flipped',
  5: 'mirrored, rotated 90° counter-clockwise',
  6: 'rotated 90° clockwise',
  7: 'mirrored, rotated 90° clockwise',
  8: 'rotated 90° counter-clockwise',
};

export function mediaFields(record: MediaRecord): [string, string][] {
  const info = record.mediaInfo;
  const rows: [string, string | undefined][] = [
    ['original name', record.originalName ?? undefined],
    ['media', record.storageKey ? mediaSummary(record) : undefined],
    ['codec', info?.streams?.map((s) => `${s.kind} ${s.codec}`).join(', ') || info?.codec],
    ['bitrate', info?.bitrate ? `${Math.round(info.bitrate / 1000)} kb/s` : undefined],
    [
      'audio',
      info?.sampleRate
        ? `${info.sampleRate} Hz, ${info.channels ?? '?'} ch${info.bitsPerSample ? `, ${info.bitsPerSample}-bit` : ''}`
        : undefined,
    ],
    ['orientation', info?.orientation ? `${info.orientation} (${ORIENTATIONS[info.orientation] ?? '?'})` : undefined],
    ['rotation', info?.rotation ? `${info.rotation}°` : undefined],
    ['frames', info?.frames ? String(info.frames) : undefined],
  ];
  return rows.filter((row): row is [string, string] => row[1] !== undefined && row[1] !== '');
}
