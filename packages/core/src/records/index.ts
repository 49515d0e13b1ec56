/**
 * `@mediaforge/core/records`: records, their pages and generations, without the rest of the library. The CLI's
 * record commands import this instead of the barrel, so listing records does not load ingest, generation or media.
 */
export { type UserUsage, userUsage } from '../files/user-quota.ts';
export * from './cursor.ts';
export * from './generation.ts';
export * from './media-filter.ts';
export * from './media-summary.ts';
export * from './record.ts';
export { RECORD_PAGE_BYTES } from './record-page.ts';
export * from './repository.ts';
export * from './stats.ts';
