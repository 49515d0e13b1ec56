// The bomb generators, for suites outside core (the chaos fuzzer and the resource-exhaustion scenario).
export { type Bomb, parserBombs, solidWebp } from '../media/bombs/index.ts';
export * from './backends.ts';
export * from './ffprobe.ts';
export * from './large-frame-video.ts';
export * from './plan-nodes.ts';
export * from './recorded-ffmpeg.ts';
export * from './ssrf-forms.ts';
export * from './system-tools.ts';
export * from './tcp-proxy.ts';
