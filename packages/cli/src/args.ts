/** Parsing helpers for option values that citty leaves as strings. */
import { CLIError } from './cli-error.ts';

export interface IntOptions {
  min?: number;
  max?: number;
}

/** Parses `--name value` as an integer within bounds, or throws a usage error naming the option. */
export function parseIntArg(
  value: unknown,
  name: string,
  { min = 1, max = Number.MAX_SAFE_INTEGER }: IntOptions = {},
): number {
  const text = String(value).trim();
  const parsed = Number(text);
  if (text === '' || !Number.isInteger(parsed) || parsed < min || parsed > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `between ${min} and ${max}`;
    throw new CLIError(`--${name} must be an integer ${range} (got ${JSON.stringify(value)})`);
  }
  return parsed;
}

/** Like parseIntArg, but `undefined` when the option was not given. */
export function optionalIntArg(value: unknown, name: string, options?: IntOptions): number | undefined {
  return value === undefined ? undefined : parseIntArg(value, name, options);
}

/** Validates an enum-like option against its allowed values. */
export function parseChoice<T extends string>(value: unknown, name: string, choices: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!choices.includes(value as T)) {
    throw new CLIError(`--${name} must be one of ${choices.join(', ')} (got ${JSON.stringify(value)})`);
  }
  return value as T;
}

/** The standard `--json` flag, shared by every command that prints results. */
export const jsonArg = {
  json: { type: 'boolean', description: 'Print one JSON document on stdout (logs stay on stderr)' },
} as const;
