export * from './backends.ts';
export * from './ssrf-forms.ts';
export * from './system-tools.ts';
