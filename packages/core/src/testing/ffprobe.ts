/** ffprobe as the tests' independent oracle: what an ordinary media tool reads from a file's streams and format. */
import { execFileSync } from 'node:child_process';
import { requireTool } from './system-tools.ts';

export interface ProbeStream {
  codec_type: string;
  codec_name: string;
  width?: number;
  height?: number;
  sample_rate?: string;
  channels?: number;
  avg_frame_rate?: string;
}

export interface Probe {
  streams: ProbeStream[];
  format: { duration?: string };
}

/** `ffprobe -show_streams -show_format` as JSON. */
export function ffprobe(path: string): Probe {
  const out = execFileSync(requireTool('ffprobe'), [
    '-v',
    'error',
    '-show_streams',
    '-show_format',
    '-of',
    'json',
    path,
  ]);
  return JSON.parse(out.toString()) as Probe;
}
