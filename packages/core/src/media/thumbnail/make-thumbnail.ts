/**
 * Thumbnails: a small WebP (at most THUMBNAIL_SIZE px on its longer side) for an image or a video. Images decode
 * with sharp in the process's image-decode slots under the same pixel cap as validation; a video's frame comes from
 * `ffmpeg` when it is on PATH (no maintained npm package decodes H.264/VP8/VP9 under Bun without WebCodecs, see
 * docs/decisions/0035-direct-uploads-tus-thumbnails.md). ffmpeg runs in one of the same decode slots as sharp, served
 * round-robin by owner, and is killed when its time budget (counted from when it gets its slot) runs out. Every
 * failure is reported, never thrown: a thumbnail is an extra, not part of the file.
 */
import { imageDecodes, MAX_IMAGE_PIXELS } from '../decode-budget.ts';
import { loadSharp } from '../load-sharp.ts';

/** Longer side of a thumbnail, in pixels. */
export const THUMBNAIL_SIZE = 256;
/** A thumbnail's WebP quality. */
const QUALITY = 70;
/** Longest a video frame may take to decode (both tries together) before ffmpeg is killed. */
export const VIDEO_FRAME_BUDGET_MS = 15_000;
/** Largest frame ffmpeg may hand back (a PNG of 8K is far below). */
const MAX_FRAME_BYTES = 64 * 1024 * 1024;
/** ffmpeg's error output kept for the reason (a hostile file can make it print for as long as it runs). */
const MAX_STDERR_BYTES = 4096;

export type ThumbnailSource =
  | { mediaType: 'image'; bytes: Uint8Array }
  | { mediaType: 'video'; path: string }
  | { mediaType: 'audio' | 'text' };

export type ThumbnailResult =
  | { ok: true; data: Uint8Array; width: number; height: number }
  | { ok: false; reason: string };

/** Makes the thumbnail of `source`; `{ ok: false }` with a reason instead of throwing. */
export async function makeThumbnail(
  source: ThumbnailSource,
  options: { timeoutMs?: number; ffmpeg?: string | null; owner?: string } = {},
): Promise<ThumbnailResult> {
  const { owner } = options;
  try {
    if (source.mediaType === 'image') return await resizeToWebp(source.bytes, owner);
    if (source.mediaType === 'video') {
      const ffmpeg = options.ffmpeg === undefined ? ffmpegPath() : options.ffmpeg;
      if (!ffmpeg) return { ok: false, reason: 'video thumbnails need ffmpeg on PATH' };
      const timeoutMs = options.timeoutMs ?? VIDEO_FRAME_BUDGET_MS;
      // The frame and its resize take a slot each, one after the other: holding one while waiting for another
      // could leave every slot waiting.
      const frame = await imageDecodes.run(() => videoFrame(ffmpeg, source.path, timeoutMs), owner);
      return await resizeToWebp(frame, owner);
    }
    return { ok: false, reason: `${source.mediaType} files have no thumbnail` };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
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

/** One frame (PNG) about a tenth of a second in, or the first one of a shorter video. */
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
        ...seek,
        '-i',
        path,
        '-frames:v',
        '1',
        '-an',
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
    if (size > MAX_FRAME_BYTES) throw new Error('ffmpeg returned a frame larger than 64 MiB');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
