/** The interactive API reference at `/docs`: Swagger UI from the `swagger-ui-dist` package, served locally. */
import { dirname, join } from 'node:path';
import { Hono } from 'hono';
import type { ApiEnv } from './env.ts';

/** A Map, not an object: a request for `/docs/constructor` must not find a property of `Object.prototype`. */
const ASSETS = new Map([
  ['swagger-ui.css', 'text/css; charset=utf-8'],
  ['swagger-ui-bundle.js', 'text/javascript; charset=utf-8'],
]);

const INIT = `window.addEventListener('load', () => {
  window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', persistAuthorization: true });
});
`;

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mediaforge API reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script><script src="/docs/init.js"></script></body></html>`;

export function docsRoutes() {
  const root = dirname(Bun.resolveSync('swagger-ui-dist/package.json', import.meta.dir));
  return (
    new Hono<ApiEnv>()
      .get('/docs', (c) => c.html(PAGE))
      // One parametrised route, not `/docs/init.js` beside `/docs/:asset`: Hono's RegExpRouter refuses a static path
      // next to a parameter at the same place, and the app would fall back to its slower TrieRouter for every request.
      .get('/docs/:asset', (c) => {
        const asset = c.req.param('asset');
        if (asset === 'init.js') return c.body(INIT, 200, { 'Content-Type': 'text/javascript; charset=utf-8' });
        const type = ASSETS.get(asset);
        if (!type) return c.notFound();
        return c.body(Bun.file(join(root, asset)).stream(), 200, {
          'Content-Type': type,
          'Cache-Control': 'public, max-age=86400',
        });
      })
  );
}
