/**
 * sharp (libvips) costs ~30 MiB of RSS the moment it is imported. It loads on first use instead, so processes that
 * never touch an image — the CLI's record commands, storage transfers, queue workers between tasks — do not pay.
 */
import type sharpType from 'sharp';
import { FileProcessingError } from '../errors.ts';
import { SHARP_THREADS_PER_IMAGE } from './decode-budget.ts';

let loading: Promise<typeof sharpType> | undefined;

export function loadSharp(): Promise<typeof sharpType> {
  loading ??= import('sharp')
    .then((module) => {
      const sharp = module.default;
      // Parallelism comes from the decode slots, one thread each, so N hostile images cannot take N × cores threads.
      sharp.concurrency(SHARP_THREADS_PER_IMAGE);
      // Every image is decoded once: libvips' operation cache would only hold untrusted pixels in memory.
      sharp.cache(false);
      return sharp;
    })
    .catch((error: unknown) => {
      // A `bun build --compile` executable cannot load sharp's native addon (nor resolve it from node_modules
      // beside it): say so instead of sharp's generic installation advice.
      if (!import.meta.path.startsWith('/$bunfs/')) throw error;
      throw new FileProcessingError(
        'Image work needs sharp, whose native addon a compiled mediaforge executable cannot load. Run this worker with `bunx @mediaforge/worker` (Bun and node_modules) for images.',
        'SHARP_UNAVAILABLE',
        { cause: error },
      );
    });
  return loading;
}
