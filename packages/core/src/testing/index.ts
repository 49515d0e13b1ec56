export * from './backends.ts';
export * from './ssrf-forms.ts';
