/**
 * The thumbnail bomb, made by the real ffmpeg: a video whose frames are huge while its bytes are small (the attacker's
 * 9 MB MOV of 16000 × 16000 PNG frames took ffmpeg 8 GB to thumbnail). One black MJPEG frame at the lowest quality
 * keeps it small and quick to make: 12000 × 12000 is ~0.8 MB, made in under a second.
 */
import { requireTool } from './system-tools.ts';

export interface LargeFrameOptions {
  /** A small video track put first, so the large one is not the first the container lists. */
  leading?: { width: number; height: number };
  /** What the MP4 sample entry says instead of the real size: a header that understates the frame. */
  headerSays?: { width: number; height: number };
}

/** Writes an MP4 to `path` holding one `width` × `height` MJPEG frame; resolves to `path`. */
export async function largeFrameVideo(
  path: string,
  frame: { width: number; height: number },
  { leading, headerSays }: LargeFrameOptions = {},
): Promise<string> {
  const black = ({ width, height }: { width: number; height: number }) => [
    '-f',
    'lavfi',
    '-i',
    // One frame per track (a second at one frame a second); `-frames:v 1` instead left the second track out.
    `color=black:s=${width}x${height}:d=1:r=1`,
  ];
  const inputs = leading ? [...black(leading), ...black(frame)] : black(frame);
  const maps = leading ? ['-map', '0:v', '-map', '1:v'] : [];
  const child = Bun.spawn(
    [requireTool('ffmpeg'), '-v', 'error', '-y', ...inputs, ...maps, '-c:v', 'mjpeg', '-q:v', '31', path],
    { stdout: 'ignore', stderr: 'pipe' },
  );
  const stderr = await new Response(child.stderr).text();
  if ((await child.exited) !== 0) throw new Error(`ffmpeg could not make ${path}: ${stderr}`);
  if (headerSays) await understate(path, headerSays);
  return path;
}

/**
 * Writes an MP4 to `path` holding `streams` copies of one single-frame `width` × `height` H.264 stream (each frame under
 * the pixel cap, so the thumbnail is made): the file is small, and a probe that decodes every stream pays for each.
 */
export async function manyStreamVideo(
  path: string,
  frame: { width: number; height: number },
  streams: number,
): Promise<string> {
  const one = `${path}.one.mp4`;
  const run = async (args: string[]) => {
    const child = Bun.spawn([requireTool('ffmpeg'), '-v', 'error', '-y', ...args], {
      stdout: 'ignore',
      stderr: 'pipe',
    });
    const stderr = await new Response(child.stderr).text();
    if ((await child.exited) !== 0) throw new Error(`ffmpeg could not make ${path}: ${stderr}`);
  };
  const source = `color=black:s=${frame.width}x${frame.height}:d=1:r=1`;
  await run(['-f', 'lavfi', '-i', source, '-frames:v', '1', '-c:v', 'libx264', '-preset', 'ultrafast', one]);
  await run(['-i', one, ...Array.from({ length: streams }, () => ['-map', '0:v']).flat(), '-c', 'copy', path]);
  return path;
}

/**
 * Writes an H.264 MP4 of `frames` flat frames of `width` × `height` at `fps`, asking for 16 reference frames and with
 * one keyframe at the start: tiny, yet a decoder walking its frames holds 16 of them, and a seek decodes every frame
 * up to its target.
 */
export async function referenceFrameVideo(
  path: string,
  frame: { width: number; height: number },
  { frames, fps }: { frames: number; fps: number },
): Promise<string> {
  const source = `color=c=gray:size=${frame.width}x${frame.height}:rate=${fps}`;
  const child = Bun.spawn(
    [
      requireTool('ffmpeg'),
      ...['-v', 'error', '-y', '-f', 'lavfi', '-i', source, '-frames:v', String(frames)],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '0', '-refs', '16'],
      ...['-x264-params', 'keyint=infinite:scenecut=0', '-video_track_timescale', String(fps), path],
    ],
    { stdout: 'ignore', stderr: 'pipe' },
  );
  const stderr = await new Response(child.stderr).text();
  if ((await child.exited) !== 0) throw new Error(`ffmpeg could not make ${path}: ${stderr}`);
  return path;
}

/** Rewrites the width and height of the only sample entry (stsd) of an MP4, as the validators read them. */
async function understate(path: string, size: { width: number; height: number }): Promise<void> {
  const bytes = await Bun.file(path).bytes();
  const text = Buffer.from(bytes).toString('latin1');
  const stsd = text.indexOf('stsd');
  if (stsd < 0 || text.indexOf('stsd', stsd + 4) >= 0) throw new Error(`${path} must hold exactly one sample table`);
  // After the type: version and flags (4), the entry count (4); the entry's width and height are 32 bytes into it.
  const entry = stsd + 4 + 8;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setUint16(entry + 32, size.width);
  view.setUint16(entry + 34, size.height);
  await Bun.write(path, bytes);
}
