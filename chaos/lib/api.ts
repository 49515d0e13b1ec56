/** One HTTP call to the API under test, as a client would make it, with the error code read from the body. */

export interface ApiRequest {
  /** The bearer key; `null` sends none. */
  key: string | null;
  json?: unknown;
  body?: BodyInit;
  headers?: Record<string, string>;
}

export interface ApiAnswer {
  status: number;
  /** `error.code` of an error body, or `''`. */
  code: string;
  text: string;
}

export async function apiCall(base: URL, method: string, path: string, request: ApiRequest): Promise<ApiAnswer> {
  const headers: Record<string, string> = { ...request.headers };
  if (request.key !== null) headers.authorization = `Bearer ${request.key}`;
  if (request.json !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(new URL(path, base), {
    method,
    headers,
    body: request.json !== undefined ? JSON.stringify(request.json) : (request.body ?? null),
  });
  const text = await response.text();
  let code = '';
  try {
    code = (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? '';
  } catch {}
  return { status: response.status, code, text };
}
