import type { ErrorCode } from '@mediaforge/core';
/** The headers TUS clients send and read, for CORS (browsers hide the rest). */
export const TUS_REQUEST_HEADERS = [
  'Tus-Resumable',
  'Upload-Length',
  'Upload-Defer-Length',
  'Upload-Offset',
  'Upload-Metadata',
];

export const TUS_RESPONSE_HEADERS = [
  'Tus-Resumable',
  'Tus-Version',
  'Tus-Extension',
  'Tus-Max-Size',
  'Upload-Offset',
  'Upload-Length',
  'Upload-Expires',
  'Upload-Metadata',
  'Mediaforge-Record-Uid',
];

/** The error code for each status @tus/server answers with a plain-text body. */
const TUS_ERROR_CODES: Record<number, ErrorCode> = {
  400: 'INVALID_HEADERS',
  403: 'FORBIDDEN',
  404: 'UPLOAD_NOT_FOUND',
  409: 'INVALID_HEADERS',
  410: 'UPLOAD_NOT_FOUND',
  412: 'INVALID_HEADERS',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'INVALID_HEADERS',
  460: 'INTEGRITY_ERROR',
};

/**
 * @tus/server's own refusals (a bad Upload-Length, a wrong offset, an unknown upload…) in the API's one error shape,
 * with their status and TUS headers kept: clients of the protocol read the status; everyone else reads the code. A
 * 5xx says nothing of its cause, as every API 5xx (the server log has it under the request id).
 */
export async function inErrorShape(response: Response, requestId: string): Promise<Response> {
  if (response.status < 400 || response.headers.get('content-type')?.includes('json')) return response;
  const said = (await response.text()).trim().slice(0, 200);
  const server = response.status >= 500 && response.status !== 501;
  const code = server ? 'INTERNAL_ERROR' : (TUS_ERROR_CODES[response.status] ?? 'HTTP_ERROR');
  const message = server
    ? 'The server failed to handle this request (details in the server log under this request id).'
    : said || `TUS request refused with status ${response.status}.`;
  const headers = new Headers(response.headers);
  headers.set('content-type', 'application/json');
  headers.delete('content-length');
  const body = { error: { code, message, details: { status: response.status }, requestId } };
  return new Response(JSON.stringify(body), { status: response.status, headers });
}

/** Removes every `Access-Control-*` header (a response of @tus/server when the API has no CORS configured). */
export function withoutCors(headers: Headers): void {
  const names = [...headers.keys()].filter((name) => name.toLowerCase().startsWith('access-control-'));
  for (const name of names) headers.delete(name);
}
