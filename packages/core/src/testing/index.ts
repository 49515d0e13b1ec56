export * from './backends.ts';
