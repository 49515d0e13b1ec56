/**
 * The options of a multipart upload may come as form fields or as query parameters. Neither silently wins: an option
 * given both ways must have the same value, or the upload is refused (400 VALIDATION_ERROR) before any byte is stored.
 */
import { ApiError } from '../errors.ts';

/** `fields` and `query` as one set of options. @throws ApiError 400 VALIDATION_ERROR when they disagree */
export function mergeFormFields<T extends object>(fields: T, query: T): T {
  const merged: Record<string, unknown> = { ...(fields as Record<string, unknown>) };
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined) continue;
    const field = merged[name];
    if (field !== undefined && JSON.stringify(field) !== JSON.stringify(value)) {
      throw new ApiError(
        400,
        'VALIDATION_ERROR',
        `"${name}" is given as a form field (${JSON.stringify(field)}) and in the query string (${JSON.stringify(value)}); give it once, or the same both ways.`,
        { option: name, field, query: value },
      );
    }
    merged[name] = value;
  }
  return merged as T;
}
