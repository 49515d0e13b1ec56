export * from './generator.ts';
export * from './store.ts';
