/** The record columns a file's media metadata fills: the filterable numbers typed, the whole as typed JSON. */
import type { FormatInfo } from '../media/validate/media-info.ts';

const INT_MAX = 2_147_483_647;

export function mediaColumns(details: FormatInfo) {
  const dimension = (value: number | undefined) =>
    value !== undefined && Number.isInteger(value) && value > 0 && value <= INT_MAX ? value : null;
  return {
    mediaInfo: details,
    width: dimension(details.width),
    height: dimension(details.height),
    durationSeconds:
      details.durationSeconds !== undefined && Number.isFinite(details.durationSeconds)
        ? details.durationSeconds
        : null,
  };
}
