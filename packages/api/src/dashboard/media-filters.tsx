/** @jsxImportSource hono/jsx */
/** The records browser's media range filters: query values in, form inputs out (bounds are checked by the core). */
import type { MediaRangeFilter } from '@mediaforge/core';

const INPUTS = [
  ['minDuration', 'Min seconds'],
  ['maxDuration', 'Max seconds'],
  ['minWidth', 'Min width'],
  ['minHeight', 'Min height'],
] as const;

/** The range filters a query string names; blank or non-numeric values are left out. */
export function mediaRangeFromQuery(query: (name: string) => string | undefined): MediaRangeFilter {
  const filter: MediaRangeFilter = {};
  for (const [name] of INPUTS) {
    const raw = query(name)?.trim();
    const value = raw ? Number(raw) : Number.NaN;
    if (Number.isFinite(value)) filter[name] = value;
  }
  return filter;
}

/** The range filters as query parameters, for the next page's link. */
export function mediaRangeParams(filter: MediaRangeFilter): Record<string, string> {
  return Object.fromEntries(
    INPUTS.filter(([name]) => filter[name] !== undefined).map(([name]) => [name, String(filter[name])]),
  );
}

export function MediaRangeInputs({ filter }: { filter: MediaRangeFilter }) {
  return (
    <>
      {INPUTS.map(([name, label]) => (
        <label>
          {label}
          <br />
          <input type="number" name={name} min="0" step="any" size={6} value={filter[name]?.toString() ?? ''} />
        </label>
      ))}
    </>
  );
}
