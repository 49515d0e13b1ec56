/**
 * `@mediaforge/core/database`: opening the database (PGlite or PostgreSQL), its schema and its error mapping, without
 * the rest of the library (a CLI command that only reads loads this, not the barrel).
 */
export * from './database.ts';
export * from './errors.ts';
export * from './open-from-settings.ts';
export * from './schema.ts';
