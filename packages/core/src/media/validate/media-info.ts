/** What integrity validation learns about a file; it ends up in the record's `metadata`. */
import type { MediaType } from '../../db/schema.ts';

export interface MediaInfo {
  contentType: string;
  mediaType: MediaType;
  size: number;
  width?: number;
  height?: number;
  durationSeconds?: number;
  /** Codec or format name(s), e.g. `mp3`, `avc1+mp4a`, `vorbis`. */
  codec?: string;
  /** Average bits per second over the whole file. */
  bitrate?: number;
  sampleRate?: number;
  channels?: number;
  /** Tracks found in a container, by kind. */
  tracks?: { video: number; audio: number };
  /** Characters of UTF-8 text. */
  characters?: number;
  lines?: number;
}

/** What a format validator returns; contentType, mediaType and size are filled in by the caller. */
export type FormatInfo = Omit<MediaInfo, 'contentType' | 'mediaType' | 'size'>;
