/**
 * What integrity validation learns about a file. Every field is read from headers the validators walk anyway (no
 * extra parsing pass); it is stored on the record as typed columns (`width`, `height`, `duration_seconds`) and the
 * typed `media_info` JSON (see docs/media-metadata.md).
 */
import type { MediaType } from '../../db/schema.ts';

/** One audio or video stream of a container (MP4/MOV/M4A, WebM). */
/** Streams kept per file: the count is the file's to declare, and `media_info` goes out with every record. */
export const MAX_STREAMS = 64;

export interface StreamInfo {
  kind: 'video' | 'audio';
  /** Common codec name, as ffprobe spells it where it knows it: `h264`, `hevc`, `av1`, `vp9`, `aac`, `opus`… */
  codec: string;
  width?: number;
  height?: number;
  /** Frames per second (video), from the sample table or the track's default frame duration. */
  frameRate?: number;
  /** Display rotation of an MP4/MOV video track in degrees, as ffprobe reports it (e.g. 90, -90, 180). */
  rotation?: number;
  sampleRate?: number;
  channels?: number;
}

export interface MediaInfo {
  contentType: string;
  mediaType: MediaType;
  size: number;
  /** Pixels, as displayed before any EXIF rotation (images) or as coded (video). */
  width?: number;
  height?: number;
  durationSeconds?: number;
  /** Codec or format name(s), e.g. `mp3`, `avc1+mp4a`, `vorbis`, `jpeg`. */
  codec?: string;
  /** Average bits per second over the whole file. */
  bitrate?: number;
  sampleRate?: number;
  channels?: number;
  /** Bits per audio sample (PCM WAV, FLAC). */
  bitsPerSample?: number;
  /** Frames per second of the (first) video stream. */
  frameRate?: number;
  /** Display rotation of the first video stream (MP4/MOV), in degrees as ffprobe reports it. */
  rotation?: number;
  /** EXIF orientation of an image, 1–8 (1: as stored; 6: rotate 90° clockwise to display). */
  orientation?: number;
  /** Frames of an animated image (GIF, WebP, AVIF sequences). */
  frames?: number;
  /** Tracks found in a container, by kind. */
  tracks?: { video: number; audio: number };
  /** Each audio and video stream of a container, in file order. */
  streams?: StreamInfo[];
  /** Characters of UTF-8 text. */
  characters?: number;
  lines?: number;
}

/** A video frame's size in pixels. */
export interface FrameSize {
  width: number;
  height: number;
}

/**
 * The largest frame any video stream of `info` declares, or undefined when none declares one. Every stream counts, not
 * only the first: ffmpeg prefers the video stream with the most pixels, and a file may lead with a small one. Streams
 * past MAX_STREAMS are not kept; ffmpeg's own pixel cap (make-thumbnail.ts) covers them, and headers that lie.
 */
export function largestVideoFrame(info: Pick<FormatInfo, 'width' | 'height' | 'streams'>): FrameSize | undefined {
  const declared = [info, ...(info.streams ?? []).filter((stream) => stream.kind === 'video')];
  let largest: FrameSize | undefined;
  for (const { width, height } of declared) {
    // A missing or zero side says nothing; ffmpeg's own pixel cap covers those files.
    if (!width || !height) continue;
    if (!largest || width * height > largest.width * largest.height) largest = { width, height };
  }
  return largest;
}

/** What a format validator returns; contentType, mediaType and size are filled in by the caller. */
export type FormatInfo = Omit<MediaInfo, 'contentType' | 'mediaType' | 'size'>;

const CODEC_NAMES: Record<string, string> = {
  avc1: 'h264',
  avc3: 'h264',
  hvc1: 'hevc',
  hev1: 'hevc',
  av01: 'av1',
  vp08: 'vp8',
  vp09: 'vp9',
  mp4a: 'aac',
  'ac-3': 'ac3',
  'ec-3': 'eac3',
  opus: 'opus',
  Opus: 'opus',
  fLaC: 'flac',
  '.mp3': 'mp3',
  mp4v: 'mpeg4',
  'V_MPEG4/ISO/AVC': 'h264',
  V_MPEGH_ISO_HEVC: 'hevc',
  V_VP8: 'vp8',
  V_VP9: 'vp9',
  V_AV1: 'av1',
  A_OPUS: 'opus',
  A_VORBIS: 'vorbis',
  A_AAC: 'aac',
  A_FLAC: 'flac',
};

/** A container's codec tag (`avc1`, `V_VP9`) as the common name ffprobe uses, or the tag itself when unknown. */
export function codecName(tag: string): string {
  return CODEC_NAMES[tag] ?? CODEC_NAMES[tag.split('/')[0] as string] ?? tag.toLowerCase();
}

/** Frames per second rounded to 3 decimals (29.97, 23.976), or undefined when it cannot be worked out. */
export function framesPerSecond(frames: number, seconds: number): number | undefined {
  if (!(frames > 0) || !(seconds > 0)) return undefined;
  return Math.round((frames / seconds) * 1000) / 1000;
}
