/**
 * A streaming reader for `multipart/form-data` uploads: text fields before the file are collected (bounded), and
 * the first file part comes back as a stream that ends at its boundary, so a file of any size passes through with
 * only a chunk and a boundary's length held in memory. Parts after the file are drained and ignored.
 */
import { ApiError } from './errors.ts';

const MAX_HEADER_BYTES = 16 * 1024;
const MAX_FIELDS_BYTES = 64 * 1024;
const MAX_PARTS_BEFORE_FILE = 50;

export interface MultipartFile {
  fields: Record<string, string>;
  fileName?: string;
  contentType?: string;
  stream: ReadableStream<Uint8Array>;
}

export function multipartBoundary(contentType: string): string | undefined {
  if (!/^multipart\/form-data\s*;/i.test(contentType)) return undefined;
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

function malformed(message: string): ApiError {
  return new ApiError(400, 'MALFORMED_MULTIPART', `Malformed multipart body: ${message}.`);
}

/** Reads up to the first file part. @throws ApiError 400 MALFORMED_MULTIPART */
export async function readMultipartFile(body: ReadableStream<Uint8Array>, boundary: string): Promise<MultipartFile> {
  const reader = body.getReader();
  // A CRLF in front lets the first delimiter match like every other one.
  let buffer: Buffer = Buffer.from('\r\n');
  let ended = false;
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  const pull = async (): Promise<boolean> => {
    if (ended) return false;
    const { done, value } = await reader.read();
    if (done) {
      ended = true;
      return false;
    }
    buffer = Buffer.concat([buffer, value]);
    return true;
  };
  const fail = async (error: ApiError): Promise<never> => {
    await reader.cancel().catch(() => {});
    throw error;
  };

  const fields: Record<string, string> = {};
  let fieldBytes = 0;
  // Find the first delimiter (a preamble before it is allowed).
  let at = buffer.indexOf(delimiter);
  while (at < 0) {
    if (buffer.length > MAX_HEADER_BYTES) return fail(malformed('no boundary found at the start'));
    if (!(await pull())) return fail(malformed('the body has no parts'));
    at = buffer.indexOf(delimiter);
  }
  buffer = buffer.subarray(at + delimiter.length);
  for (let part = 0; part <= MAX_PARTS_BEFORE_FILE; part += 1) {
    while (buffer.length < 2 && (await pull()));
    if (buffer.subarray(0, 2).toString() === '--') return fail(malformed('no file part'));
    let headerEnd = buffer.indexOf('\r\n\r\n');
    while (headerEnd < 0) {
      if (buffer.length > MAX_HEADER_BYTES) return fail(malformed('part headers too long'));
      if (!(await pull())) return fail(malformed('the body ends inside part headers'));
      headerEnd = buffer.indexOf('\r\n\r\n');
    }
    const headers = parseHeaders(buffer.subarray(2, headerEnd).toString('utf8'));
    buffer = buffer.subarray(headerEnd + 4);
    const disposition = headers.get('content-disposition') ?? '';
    const name = dispositionParam(disposition, 'name');
    const fileName = dispositionParam(disposition, 'filename');
    if (!/^form-data\b/i.test(disposition) || name === undefined) {
      return fail(malformed('a part lacks Content-Disposition: form-data; name=…'));
    }
    if (fileName !== undefined || name === 'file') {
      const contentType = headers.get('content-type');
      return {
        fields,
        ...(fileName ? { fileName } : {}),
        ...(contentType ? { contentType } : {}),
        stream: partStream(reader, buffer, ended, delimiter),
      };
    }
    // A text field: read to the next delimiter, bounded.
    let end = buffer.indexOf(delimiter);
    while (end < 0) {
      if (buffer.length > MAX_FIELDS_BYTES) return fail(malformed('form fields too large'));
      if (!(await pull())) return fail(malformed('the body ends inside a field'));
      end = buffer.indexOf(delimiter);
    }
    fieldBytes += end;
    if (fieldBytes > MAX_FIELDS_BYTES) return fail(malformed('form fields too large'));
    fields[name] = buffer.subarray(0, end).toString('utf8');
    buffer = buffer.subarray(end + delimiter.length);
  }
  return fail(malformed(`more than ${MAX_PARTS_BEFORE_FILE} fields before the file`));
}

/** The file part's bytes up to the next delimiter; the rest of the body is drained when the part ends. */
function partStream(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  initial: Buffer,
  initiallyEnded: boolean,
  delimiter: Buffer,
): ReadableStream<Uint8Array> {
  let buffer = initial;
  let ended = initiallyEnded;
  let finished = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        const at = buffer.indexOf(delimiter);
        if (at >= 0) {
          if (at > 0) controller.enqueue(new Uint8Array(buffer.subarray(0, at)));
          finished = true;
          controller.close();
          // Drain the rest (closing delimiter, later parts) so the client sees a complete request.
          void (async () => {
            while (!(await reader.read()).done);
          })().catch(() => {});
          return;
        }
        // Everything but a possible partial delimiter at the end can go now.
        const safe = buffer.length - (delimiter.length - 1);
        if (safe > 0) {
          controller.enqueue(new Uint8Array(buffer.subarray(0, safe)));
          buffer = buffer.subarray(safe);
          if (!ended) return;
        }
        if (ended) {
          controller.error(malformed('the body ends before the file part is closed'));
          return;
        }
        const { done, value } = await reader.read();
        if (done) ended = true;
        else buffer = buffer.length === 0 ? Buffer.from(value) : Buffer.concat([buffer, value]);
      }
    },
    async cancel(reason) {
      if (!finished) await reader.cancel(reason).catch(() => {});
    },
  });
}

function parseHeaders(block: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return headers;
}

function dispositionParam(disposition: string, param: string): string | undefined {
  const match = new RegExp(`;\\s*${param}="((?:[^"\\\\]|\\\\.)*)"|;\\s*${param}=([^;\\s]+)`, 'i').exec(disposition);
  const value = match?.[1] ?? match?.[2];
  return value?.replace(/\\(.)/g, '$1');
}
