import { expect, test } from 'bun:test';
import { createLogger } from '@mediaforge/core';
import { Hono } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { Registry } from 'prom-client';
import type { ApiEnv } from './env.ts';
import { HttpMetrics } from './http-metrics.ts';
import type { ApiMetrics } from './metrics.ts';
import { requestContext, SECURITY_HEADER_OPTIONS, SECURITY_HEADERS } from './request-context.ts';

test("the fixed security headers are exactly what Hono's secureHeaders sets with the same options", async () => {
  const reference = new Hono();
  reference.use(secureHeaders(SECURITY_HEADER_OPTIONS));
  reference.get('/', (c) => c.text('x'));
  const expected = [...(await reference.request('/')).headers].filter(([name]) => name !== 'content-type');
  expect(SECURITY_HEADERS.map(([name, value]) => [name, value])).toEqual(expected);
});

test('request ids: a plain caller id is kept, anything else replaced; every response gets the security headers', async () => {
  const registry = new Registry();
  const metrics = { http: new HttpMetrics(registry) } as unknown as ApiMetrics;
  const app = new Hono<ApiEnv>();
  app.use(requestContext(createLogger({ level: 'silent' }), metrics));
  app.get('/thing/:id', (c) => c.json({ id: c.get('requestId') }));
  const kept = await app.request('/thing/1', { headers: { 'x-request-id': 'trace-123' } });
  expect(kept.headers.get('x-request-id')).toBe('trace-123');
  expect(((await kept.json()) as { id: string }).id).toBe('trace-123');
  for (const hostile of ['a b', 'x'.repeat(101), '<script>', '']) {
    const replaced = await app.request('/thing/1', { headers: { 'x-request-id': hostile } });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  }
  const missing = await app.request('/nowhere');
  expect(missing.status).toBe(404);
  for (const [name, value] of SECURITY_HEADERS) expect(missing.headers.get(name)).toBe(value);
  const text = await registry.metrics();
  expect(text).toContain('mediaforge_http_requests_total{method="GET",route="/thing/:id",status="200"} 5');
  expect(text).toContain('mediaforge_http_requests_total{method="GET",route="unmatched",status="404"} 1');
  expect(text).toContain(
    'mediaforge_http_request_duration_seconds_bucket{method="GET",route="/thing/:id",le="+Inf"} 5',
  );
  expect(text).toContain('mediaforge_http_request_duration_seconds_count{method="GET",route="unmatched"} 1');
});
