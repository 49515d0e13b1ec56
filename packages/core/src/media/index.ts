export * from './compress.ts';
export * from './detect.ts';
export * from './peek.ts';
export * from './supported.ts';
export { prng } from './synth/prng.ts';
export * from './synth/synthesize.ts';
export * from './validate/image.ts';
export * from './validate/media-info.ts';
export * from './validate/validate.ts';
