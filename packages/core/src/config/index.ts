/**
 * `@mediaforge/core/settings`: the settings loader and its masked description, without the rest of the library
 * (every CLI command loads its settings; few need more of the core).
 */
export * from './mask.ts';
export * from './settings.ts';
