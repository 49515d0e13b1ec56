import { expect, test } from 'bun:test';
import { docsRoutes } from './docs.ts';

const docs = docsRoutes();

test('the reference page and its assets are served', async () => {
  expect((await docs.request('/docs')).status).toBe(200);
  for (const [asset, type] of [
    ['swagger-ui.css', 'text/css'],
    ['swagger-ui-bundle.js', 'text/javascript'],
    ['init.js', 'text/javascript'],
  ]) {
    const response = await docs.request(`/docs/${asset}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toStartWith(type as string);
    expect((await response.text()).length).toBeGreaterThan(0);
  }
});

test('names of Object.prototype are no assets: 404, not a 500', async () => {
  for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf']) {
    const response = await docs.request(`/docs/${name}`);
    expect({ name, status: response.status }).toEqual({ name, status: 404 });
  }
  expect((await docs.request('/docs/swagger-ui.js')).status).toBe(404);
});
