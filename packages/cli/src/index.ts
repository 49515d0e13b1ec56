export * from '@mediaforge/core';
export * from '@mediaforge/storage';
export { mediaforge } from './cli.ts';
export { CLIError } from './cli-error.ts';
export { runCli } from './run.ts';
