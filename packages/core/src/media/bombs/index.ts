/**
 * A structure-aware generator of parser bombs for every supported container: well-formed enough to reach the deep
 * parts of a parser, hostile in what they declare — huge counts and sizes, deep nesting, thousands of tracks,
 * offsets that point backwards or past the end. Seeded, so a failure names an input that can be rebuilt.
 */
import { prng } from '../synth/prng.ts';
import { audioBombs } from './audio.ts';
import { imageBombs } from './image.ts';
import { isobmffBombs } from './isobmff.ts';
import { oggBombs } from './ogg.ts';
import { textBombs } from './text.ts';
import { webmBombs } from './webm.ts';

export { flacOfSyncBytes } from './audio.ts';
export { png } from './image.ts';
export { issue18Mp4 } from './isobmff.ts';
export { progressiveJpeg } from './progressive-jpeg.ts';
export { solidWebp } from './solid-webp.ts';

export interface Bomb {
  /** Shape, scale and seed: enough to rebuild the input. */
  name: string;
  mime: string;
  bytes: Uint8Array;
}

export interface BombOptions {
  seed?: number;
  /** Repetition counts to build every shape at (tracks, entries, pages, frames…); bytes grow roughly linearly. */
  scales?: readonly number[];
}

/** Every bomb shape of every container at every scale. */
export function parserBombs({ seed = 1, scales = [16, 1024] }: BombOptions = {}): Bomb[] {
  const random = prng(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
  const bombs: Bomb[] = [];
  const add = (mime: string, shapes: Record<string, Uint8Array>, n: number) => {
    for (const [shape, bytes] of Object.entries(shapes))
      bombs.push({ name: `${shape} (n=${n}, seed ${seed})`, mime, bytes });
  };
  for (const n of scales) {
    add(pick(['video/mp4', 'video/quicktime', 'audio/mp4']), isobmffBombs(n, pick), n);
    add('video/webm', webmBombs(n), n);
    add(pick(['audio/ogg', 'audio/opus']), oggBombs(n), n);
    add('text/plain', textBombs(n), n);
    for (const [shape, { mime, bytes }] of Object.entries({ ...audioBombs(n), ...imageBombs(n) })) {
      bombs.push({ name: `${shape} (n=${n}, seed ${seed})`, mime, bytes });
    }
  }
  return bombs;
}
