/**
 * An ffmpeg that is the real one run under /usr/bin/time: each run appends its peak RSS, so a test sees whether ffmpeg
 * was spawned at all and how much memory it took. Put its `dir` first on PATH, or pass its `path` where an ffmpeg
 * binary is asked for.
 */
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from './system-tools.ts';

export interface RecordedFfmpeg {
  /** The directory holding the stand-in, named `ffmpeg`. */
  dir: string;
  path: string;
  /** Peak resident memory of each run so far, in KiB (empty: ffmpeg was never spawned). */
  peaksKiB(): Promise<number[]>;
  /** CPU time (user + system) of each run so far, in seconds. */
  cpuSeconds(): Promise<number[]>;
}

export async function recordedFfmpeg(): Promise<RecordedFfmpeg> {
  const dir = mkdtempSync(join(tmpdir(), 'mediaforge-recorded-ffmpeg-'));
  const path = join(dir, 'ffmpeg');
  const log = join(dir, 'runs');
  const time = requireTool('/usr/bin/time');
  await Bun.write(
    path,
    `#!/bin/sh\nexec ${time} -a -o '${log}' -f 'peak-kib %M cpu %U %S' '${requireTool('ffmpeg')}' "$@"\n`,
  );
  chmodSync(path, 0o755);
  return {
    dir,
    path,
    peaksKiB: async () => (await runs()).map((run) => run.peakKiB),
    cpuSeconds: async () => (await runs()).map((run) => run.cpu),
  };

  async function runs(): Promise<{ peakKiB: number; cpu: number }[]> {
    const file = Bun.file(log);
    if (!(await file.exists())) return [];
    // /usr/bin/time also notes a non-zero exit on a line of its own.
    return [...(await file.text()).matchAll(/^peak-kib (\d+) cpu ([\d.]+) ([\d.]+)$/gm)].map((match) => ({
      peakKiB: Number(match[1]),
      cpu: Number(match[2]) + Number(match[3]),
    }));
  }
}
