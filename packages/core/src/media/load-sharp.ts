/**
 * sharp (libvips) costs ~30 MiB of RSS the moment it is imported. It loads on first use instead, so processes that
 * never touch an image — the CLI's record commands, storage transfers, queue workers between tasks — do not pay.
 */
import type sharpType from 'sharp';

let loading: Promise<typeof sharpType> | undefined;

export function loadSharp(): Promise<typeof sharpType> {
  loading ??= import('sharp').then((module) => module.default);
  return loading;
}
