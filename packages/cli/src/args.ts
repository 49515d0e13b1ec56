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

/**
 * Parses `--size` (KiB, decimals allowed: `0x10`, `1e3`, `''` and the like are refused), at least 1 and at most
 * MAX_FILE_SIZE_MB. @throws CLIError USAGE for a malformed or too small size, FILE_SIZE_EXCEEDED past the limit
 */
export function parseSizeKbArg(value: unknown, settings: { maxFileSizeBytes: number; maxFileSizeMb: number }): number {
  const text = String(value).trim();
  const kib = /^\d{1,12}(\.\d{1,6})?$/.test(text) ? Number(text) : Number.NaN;
  if (!(kib >= 1)) throw new CLIError(`--size must be a number of KiB >= 1 (got ${JSON.stringify(value)})`);
  const maxKb = settings.maxFileSizeBytes / 1024;
  if (kib > maxKb) {
    throw new CLIError(
      `--size ${kib} KiB is over MAX_FILE_SIZE_MB (${settings.maxFileSizeMb} MB = ${maxKb} KiB)`,
      'FILE_SIZE_EXCEEDED',
    );
  }
  return kib;
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
