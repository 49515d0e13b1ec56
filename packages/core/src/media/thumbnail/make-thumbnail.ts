/**
 * Thumbnails: a small WebP (at most THUMBNAIL_SIZE px on its longer side) for an image or a video. Images decode
 * with sharp in the process's image-decode slots under the same pixel cap as validation; a video's frame comes from
 * `ffmpeg` when it is on PATH (no maintained npm package decodes H.264/VP8/VP9 under Bun without WebCodecs, see
 * docs/decisions/0035-direct-uploads-tus-thumbnails.md). ffmpeg runs in one of the same decode slots as sharp, served
 * round-robin by owner, and is killed when its time budget (counted from when it gets its slot) runs out. ffmpeg's
 * memory follows the frame size a file claims, not its bytes (a 9 MB MOV of 16000 × 16000 PNG frames took 8 GB), so
 * a frame past the images' pixel cap is never decoded (decision 0054). Every failure is reported, never thrown: a
 * thumbnail is an extra, not part of the file.
 */
import { imageDecodes, MAX_IMAGE_PIXELS } from '../decode-budget.ts';
import { loadSharp } from '../load-sharp.ts';
import type { FrameSize } from '../validate/media-info.ts';

/** Longer side of a thumbnail, in pixels. */
export const THUMBNAIL_SIZE = 256;
/** A thumbnail's WebP quality. */
const QUALITY = 70;
/** Longest a video frame may take to decode (both tries together) before ffmpeg is killed. */
export const VIDEO_FRAME_BUDGET_MS = 15_000;
/**
 * Largest frame ffmpeg may hand back. It scales the frame to THUMBNAIL_SIZE itself, so even 16 bits per channel with
 * alpha and no compression at all is 256 × 256 × 8 bytes = 0.5 MiB; anything near the cap is not a thumbnail.
 */
const MAX_FRAME_BYTES = 4 * 1024 * 1024;
/** ffmpeg's error output kept for the reason (a hostile file can make it print for as long as it runs). */
const MAX_STDERR_BYTES = 4096;

export type ThumbnailSource =
  | { mediaType: 'image'; bytes: Uint8Array }
  /** `frame`: the largest video frame the container declares (validation read it; see largestVideoFrame). */
  | { mediaType: 'video'; path: string; frame?: FrameSize }
  | { mediaType: 'audio' | 'text' };

/**
 * `skipped`: the file has no thumbnail by design (its type has none, or its frame is past the pixel cap), as opposed
 * to a thumbnail that could not be made.
 */
export type ThumbnailResult =
  | { ok: true; data: Uint8Array; width: number; height: number }
  | { ok: false; reason: string; skipped?: true };

/** Makes the thumbnail of `source`; `{ ok: false }` with a reason instead of throwing. */
export async function makeThumbnail(
  source: ThumbnailSource,
  options: { timeoutMs?: number; ffmpeg?: string | null; owner?: string } = {},
): Promise<ThumbnailResult> {
  const { owner } = options;
  try {
    if (source.mediaType === 'image') return await resizeToWebp(source.bytes, owner);
    if (source.mediaType === 'video') {
      // Left out before ffmpeg is spawned or a slot is taken: the frame would cost more than any image may. The file
      // itself is not refused: validation only walks the container (its cost follows bytes, not pixels), and real
      // videos pass 50 MP (8192 × 8192 VR, AV1 up to 142 MP), so only the step whose cost follows the frame is skipped.
      if (source.frame && source.frame.width * source.frame.height > MAX_IMAGE_PIXELS)
        return { ok: false, skipped: true, reason: frameTooLarge(source.frame) };
      const ffmpeg = options.ffmpeg === undefined ? ffmpegPath() : options.ffmpeg;
      if (!ffmpeg) return { ok: false, reason: 'video thumbnails need ffmpeg on PATH' };
      const timeoutMs = options.timeoutMs ?? VIDEO_FRAME_BUDGET_MS;
      // The frame and its resize take a slot each, one after the other: holding one while waiting for another
      // could leave every slot waiting.
      const frame = await imageDecodes.run(() => videoFrame(ffmpeg, source.path, timeoutMs), owner);
      return await resizeToWebp(frame, owner);
    }
    return { ok: false, skipped: true, reason: `${source.mediaType} files have no thumbnail` };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

function frameTooLarge({ width, height }: FrameSize): string {
  const megapixels = (width * height) / 1e6;
  return (
    `the video's ${width} × ${height} frames (${megapixels.toFixed(1)} MP) are larger than the ` +
    `${MAX_IMAGE_PIXELS / 1e6} MP a thumbnail may decode, so it has none`
  );
}

/** The ffmpeg binary thumbnails use, or null (what `mediaforge config` and /health report). */
export function ffmpegPath(): string | null {
  return Bun.which('ffmpeg', { PATH: process.env.PATH ?? '' });
}

async function resizeToWebp(input: Uint8Array, owner: string | undefined): Promise<ThumbnailResult> {
  const sharp = await loadSharp();
  const { data, info } = await imageDecodes.run(
    () =>
      sharp(input, { limitInputPixels: MAX_IMAGE_PIXELS, failOn: 'error' })
        .rotate()
        .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'inside', withoutEnlargement: true })
        .webp({ quality: QUALITY })
        .toBuffer({ resolveWithObject: true }),
    owner,
  );
  return { ok: true, data: new Uint8Array(data), width: info.width, height: info.height };
}

/** Scales to at most THUMBNAIL_SIZE on the longer side, aspect kept, never up, never to 0 px (a 4000 × 4 frame). */
const fit = (side: 'iw' | 'ih') => `'max(1,round(${side}*min(1,${THUMBNAIL_SIZE}/max(iw,ih))))'`;
const SCALE_FILTER = `scale=w=${fit('iw')}:h=${fit('ih')}`;

/**
 * The options that bound ffmpeg whatever the container claims (its header may understate the frame, or give no size):
 * - `-max_pixels` (a decoder option, so before `-i`; it also holds while ffmpeg probes the streams): a frame past
 *   MAX_IMAGE_PIXELS fails in the decoder before its buffer is allocated. A 12000 × 12000 MJPEG whose header says
 *   320 × 240 then fails in 0.05 s at 55 MB instead of taking 1.1 GB; the 9 MB 16000 × 16000 PNG MOV, 56 MB, not 8 GB.
 * - `-threads 1` and `-filter_threads 1`: with frame threads a decoder (PNG, H.264…) holds a frame per thread and
 *   takes every core; one slot is one core, as for sharp (SHARP_THREADS_PER_IMAGE).
 * - the scale filter: only a thumbnail-sized PNG is encoded and piped back, never the full frame (a 7000 × 7000 MJPEG
 *   peaked at 126 MB instead of 424 MB).
 * - `-probesize 32 -analyzeduration 0`: while probing, ffmpeg decodes a frame of every stream it has no parameters
 *   for, whatever `-frames:v 1` asks for later; a 5.8 MB MP4 holding 40 copies of one 49 MP H.264 stream (each under
 *   the cap) took 4.2 GB that way, and 210 MB with the probe kept to the headers. The container's headers give what
 *   the decoder needs; the frames made from MP4, MOV, WebM and AV1 files were byte for byte the same either way.
 * - `-skip_frame nokey` and `-noaccurate_seek`: only keyframes are decoded, and the seek hands over the keyframe it
 *   lands on instead of decoding every frame up to 0.1 s. A keyframe refers to no other frame, so the decoder holds no
 *   reference frames: a 122 KB H.264 of 41 MP frames asking for 16 references took 1.47 GB, now 153 MB; one of
 *   10,000 frames a second made the seek decode ~1,000 frames, holding a decode slot (and every other user's images
 *   behind it) for 9 s, now 0.2 s. The thumbnail is the first keyframe at or after the seek (or from the start).
 * No memory rlimit: Bun.spawn cannot set one, and wrapping ffmpeg in prlimit(1) or a shell's `ulimit` needs a tool
 * not every host has (busybox, macOS); RLIMIT_AS would also count address space, of which an idle ffmpeg maps
 * ~300 MB, so a safe value would bound little. With these options memory follows MAX_IMAGE_PIXELS instead of the
 * claimed frame size, and one keyframe instead of the frames a stream refers to: a 41 MP H.264 asking for 16
 * reference frames, the worst measured, peaks at 153 MB (1.47 GB while every frame was decoded).
 */
const BOUNDS_BEFORE_INPUT = [
  '-max_pixels',
  String(MAX_IMAGE_PIXELS),
  '-threads',
  '1',
  '-filter_threads',
  '1',
  '-probesize',
  '32',
  '-analyzeduration',
  '0',
  '-skip_frame',
  'nokey',
  '-noaccurate_seek',
];

/** One frame (PNG, thumbnail-sized) about a tenth of a second in, or the first one of a shorter video. */
async function videoFrame(ffmpeg: string, path: string, timeoutMs: number): Promise<Uint8Array> {
  const deadline = performance.now() + timeoutMs;
  const run = (seek: string[]) =>
    Bun.spawn(
      [
        ffmpeg,
        '-nostdin',
        '-hide_banner',
        '-loglevel',
        'error',
        ...BOUNDS_BEFORE_INPUT,
        ...seek,
        '-i',
        path,
        '-frames:v',
        '1',
        '-an',
        '-vf',
        SCALE_FILTER,
        '-f',
        'image2pipe',
        '-c:v',
        'png',
        'pipe:1',
      ],
      {
        stdout: 'pipe',
        stderr: 'pipe',
        timeout: Math.max(1, Math.ceil(deadline - performance.now())),
        killSignal: 'SIGKILL',
      },
    );
  for (const seek of [['-ss', '0.1'], []]) {
    const child = run(seek);
    const read = Promise.all([readCapped(child.stdout), headOf(child.stderr, MAX_STDERR_BYTES)]);
    // A frame over the cap stops the read: ffmpeg goes with it, so nothing runs on after its slot is given back.
    const [frame, stderr] = await read.catch((error: unknown) => {
      child.kill('SIGKILL');
      throw error;
    });
    const code = await child.exited;
    if (child.signalCode) throw new Error(`ffmpeg took longer than ${timeoutMs} ms for one frame and was stopped`);
    if (code === 0 && frame.byteLength > 0) return frame;
    if (seek.length === 0)
      throw new Error(`ffmpeg could not decode a frame: ${stderr.trim().slice(0, 300) || `exit ${code}`}`);
  }
  throw new Error('unreachable');
}

/** The first `max` bytes of a stream as text; the rest is read and dropped (ffmpeg must not block on its pipe). */
async function headOf(stream: ReadableStream<Uint8Array>, max: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream) {
    if (size < max) chunks.push(chunk.subarray(0, max - size));
    size += chunk.byteLength;
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function readCapped(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.byteLength;
    if (size > MAX_FRAME_BYTES) throw new Error('ffmpeg returned a frame larger than 4 MiB');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
