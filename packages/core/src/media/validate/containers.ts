/** The container and text validators by name, run over bytes or a Blob; shared by the worker thread and the fallback. */
import type { ValidatorName } from '../supported.ts';
import { validateFlac } from './flac.ts';
import { validateIsobmff } from './isobmff.ts';
import type { FormatInfo } from './media-info.ts';
import { validateAdts, validateMp3 } from './mpeg-audio.ts';
import { validateOgg } from './ogg.ts';
import { type ByteSource, blobSource, bytesSource } from './source.ts';
import { validateText } from './text.ts';
import { validateWav } from './wav.ts';
import { validateWebm } from './webm.ts';

export type ContainerValidator = Exclude<ValidatorName, 'image'>;

const VALIDATORS: Record<ContainerValidator, (source: ByteSource) => Promise<FormatInfo>> = {
  mp3: validateMp3,
  adts: validateAdts,
  wav: validateWav,
  ogg: validateOgg,
  flac: validateFlac,
  isobmff: validateIsobmff,
  webm: validateWebm,
  text: validateText,
};

/** Walks `data` with the named validator; throws FormatProblem (or RangeError from a bad read) when it is broken. */
export function validateContainer(validator: ContainerValidator, data: Uint8Array | Blob): Promise<FormatInfo> {
  return VALIDATORS[validator](data instanceof Uint8Array ? bytesSource(data) : blobSource(data));
}
