/**
 * `mediaforge ingest --allowed-types … --header … --header-file …`: the per-request filter and request headers.
 * Headers given on the command line are visible in the process list; `--header-file` keeps them out of it.
 */
import { type AllowedTypes, checkRequestHeaders, parseAllowedTypes } from '@mediaforge/core';
import { CLIError } from './cli-error.ts';

export const ingestFilterArgs = {
  'allowed-types': {
    type: 'string',
    description: 'Only store these types: media types (image), MIME types (image/png) or kind/*, comma-separated',
  },
  header: {
    type: 'string',
    description: 'Request header "Name: value" for the downloads (repeatable); sent only to each URL\'s own origin',
  },
  'header-file': {
    type: 'string',
    description: 'Read request headers from a file, one "Name: value" per line (keeps them out of the process list)',
  },
} as const;

export interface IngestFilters {
  allowedTypeList?: string[];
  allowedTypes?: AllowedTypes;
  headers?: Record<string, string>;
}

/** @throws CLIError for a malformed header line; VALIDATION_ERROR / INVALID_HEADERS from the core checks */
export async function parseIngestFilters(
  args: { 'allowed-types'?: string | undefined; 'header-file'?: string | undefined },
  rawArgs: readonly string[],
): Promise<IngestFilters> {
  const filters: IngestFilters = {};
  if (args['allowed-types'] !== undefined) {
    filters.allowedTypeList = args['allowed-types']
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean);
    filters.allowedTypes = parseAllowedTypes(filters.allowedTypeList);
  }
  const lines = repeatedOption(rawArgs, 'header');
  if (args['header-file']) {
    const file = Bun.file(args['header-file']);
    if (!(await file.exists())) throw new CLIError(`--header-file ${args['header-file']}: no such file`);
    if (file.size > 64 * 1024) throw new CLIError(`--header-file ${args['header-file']}: larger than 64 KiB`);
    lines.push(...(await file.text()).split(/\r?\n/).filter((line) => line.trim() && !line.startsWith('#')));
  }
  if (lines.length > 0) {
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      // The value is never echoed back: it is a credential.
      if (colon <= 0) throw new CLIError(`--header must look like "Name: value" (got a line without a name)`);
      const name = line.slice(0, colon).trim();
      if (name.toLowerCase() in headers) throw new CLIError(`--header ${name} is given twice`);
      headers[name.toLowerCase()] = line.slice(colon + 1).trim();
    }
    filters.headers = checkRequestHeaders(headers);
  }
  return filters;
}

/** Every value of a repeatable `--name value` / `--name=value` option (citty keeps only the last). */
function repeatedOption(rawArgs: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i] as string;
    if (arg === '--') break;
    if (arg === `--${name}` && i + 1 < rawArgs.length) values.push(rawArgs[++i] as string);
    else if (arg.startsWith(`--${name}=`)) values.push(arg.slice(name.length + 3));
  }
  return values;
}
