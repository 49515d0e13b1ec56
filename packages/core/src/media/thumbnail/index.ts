export * from './make-thumbnail.ts';
