/** docs/media-formats.md: every accepted file type, from the supported-types table. */

import type { ValidatorName } from '../../packages/core/src/media/supported.ts';
import { SUPPORTED_TYPES } from '../../packages/core/src/media/supported.ts';
import { generatedFrom, table } from './markdown.ts';

/** What each validator checks; a new validator is a compile error here until it is described. */
const CHECKS: Record<ValidatorName, string> = {
  image:
    'full decode with sharp (strict; 50-megapixel bomb guard, a time budget per decode, at most 64 scans per JPEG, each animation frame counted as at least 4,096 pixels)',
  mp3: 'every MPEG audio frame header and length, end to end',
  wav: 'RIFF chunk sizes; a PCM format chunk whose block align and byte rate are its channels, bits and rate',
  ogg: 'every Ogg page and its CRC-32',
  flac: "every frame's CRC-16 and the sample total against STREAMINFO",
  isobmff: 'every MP4 box size, and every chunk the sample tables point at lies inside an `mdat`',
  adts: 'every ADTS frame header and length',
  webm: 'every EBML element inside its parent',
  text: 'valid UTF-8 without NUL bytes',
};

const KINDS = ['image', 'audio', 'video', 'text'] as const;

export function renderMediaFormats(): string {
  const sections = KINDS.map((kind) => {
    const rows = SUPPORTED_TYPES.filter((type) => type.mediaType === kind).map((type) => [
      `\`${type.mime}\``,
      `\`${type.extension}\``,
      [...type.aliases, ...type.extensionAliases].map((alias) => `\`${alias}\``).join(', '),
      CHECKS[type.validator],
    ]);
    return `## ${kind}\n\n${table(['MIME type', 'extension', 'also recognised as', 'integrity check'], rows)}`;
  });
  return `# Media formats

${generatedFrom('packages/core/src/media/supported.ts')}

A file's type is detected from its content only (\`file-type\` on the first 64 KiB; a UTF-8 check for text): a URL's
extension or a server's Content-Type is never trusted, and a disagreement is only reported (\`mismatch\`). The object
key's extension and the record's \`content_type\` follow from the detected type. Anything not listed here is refused
with \`FILE_TYPE_NOT_SUPPORTED\` (naming the detected type); a damaged file with \`INTEGRITY_ERROR\`, which says what
is broken (e.g. \`MPEG audio frame 21 at offset 4223 needs 209 bytes but only 83 remain (truncated)\`). Aliases
are the other spellings that map to a type when they appear in a URL or a declared type.

${sections.join('\n\n')}

Synthesized files (\`mediaforge generate\`, \`mediaforge demo\`) use \`text/plain\`, \`audio/mpeg\`, \`video/mp4\`
(H.264) and \`image/jpeg\`; see [library.md](library.md#media-detection-validation-synthesis-compression).
`;
}
