/**
 * Test helper: a loopback proxy in front of a real S3 server (`target`, its endpoint). `inspect` sees each request and
 * its body, and may answer it instead (a fault, a refusal); otherwise the request is forwarded as it came.
 */
export function s3Proxy(
  target: string,
  inspect: (
    request: Request,
    url: URL,
    body: ArrayBuffer | undefined,
  ) => Response | undefined | Promise<Response | undefined>,
) {
  return Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      const url = new URL(request.url);
      const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.arrayBuffer();
      const answer = await inspect(request, url, body);
      if (answer) return answer;
      const response = await fetch(`${target}${url.pathname}${url.search}`, {
        method: request.method,
        headers: request.headers,
        body,
      });
      return new Response(response.body, { status: response.status, headers: response.headers });
    },
  });
}
