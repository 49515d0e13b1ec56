/**
 * CPU time per request of the API's two hot reads in one process, without HTTP: `app.fetch` for an authenticated
 * `GET /v1/records/{uid}` and `/health`, 32 in flight at a time, against the same row read by one prepared
 * postgres.js query + `Response.json` (the bench's bare database server's work). Prints µs of CPU (user + system)
 * per request for each, several rounds alternated. A development tool for A/B runs (`git stash`, rerun), not a target.
 * Usage: bun bench/api-cpu.ts [rounds=4] [requests=20000] [only peers whose name contains this]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKeyStore, createLogger, loadSettings, openDatabase } from '@mediaforge/core';
import { createTestPostgres } from '@mediaforge/core/testing';
import { createFileStore } from '@mediaforge/storage';
import postgres from 'postgres';

// Loaded by path: the bench package does not depend on the API (its JSX would need this package's compiler options).
type Fetch = (request: Request) => Response | Promise<Response>;
type Hot = Record<string, { GET: Fetch }>;
const API = '../packages/api/src/';
const { createApp } = (await import(`${API}app.ts`)) as {
  createApp(deps: unknown): { app: { fetch: Fetch; request: Fetch }; services: unknown; close(): Promise<void> };
};
// Absent before the hot routes existed: the A/B against an older tree then measures the app alone.
const { hotRoutes } = (await import(`${API}hot-routes.ts`).catch(() => ({ hotRoutes: () => ({}) }))) as {
  hotRoutes(services: unknown, app: { fetch: Fetch }): Hot;
};
const rounds = Number(process.argv[2] ?? 4);
const total = Number(process.argv[3] ?? 20_000);
const only = process.argv[4];
const INFLIGHT = 32;

const pg = await createTestPostgres();
const database = await openDatabase({ url: pg.url });
await database.migrate();
const home = mkdtempSync(join(tmpdir(), 'mediaforge-api-cpu-'));
const settings = loadSettings({
  env: { MEDIAFORGE_HOME: home, LOG_LEVEL: 'warn', API_RATE_LIMIT_PER_MINUTE: '1000000000', DATABASE_URL: pg.url },
});
const { app, services, close } = createApp({
  database,
  store: createFileStore({ root: join(home, 'objects') }),
  settings,
  logger: createLogger({ level: 'warn' }),
});
const { key } = await new ApiKeyStore(database.db).create({ userId: 'bench' });
const headers = { authorization: `Bearer ${key}` };
const hot = hotRoutes(services, app);
const created = await app.request(
  new Request('http://localhost/v1/records', {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ mediaType: 'audio', title: 'bench' }),
  }),
);
const { uid } = (await created.json()) as { uid: string };
const recordUrl = `http://localhost/v1/records/${uid}`;
const sql = postgres(pg.url, { max: 10, onnotice: () => {} });

const bunRequest = (url: string, params: Record<string, string>) =>
  Object.assign(new Request(url, { headers }), { params });
const peers: Record<string, () => Response | Promise<Response>> = {
  'record (mediaforge)': () => app.fetch(new Request(recordUrl, { headers })),
  'record (hot route)': () => (hot['/v1/records/:uid'] as { GET: Fetch }).GET(bunRequest(recordUrl, { uid })),
  'record (bare query)': async () => {
    const request = new Request(recordUrl, { headers });
    const path = new URL(request.url).pathname;
    const [row] = await sql`select * from records where uid = ${path.slice(path.lastIndexOf('/') + 1)}`;
    return Response.json(row);
  },
  'health (mediaforge)': () => app.fetch(new Request('http://localhost/health')),
  'health (hot route)': () => (hot['/health'] as { GET: Fetch }).GET(bunRequest('http://localhost/health', {})),
  'health (bare)': async () => Response.json({ status: 'ok', version: '0.0.0', uptimeSeconds: performance.now() }),
};

async function cpuPerRequest(run: () => Response | Promise<Response>, n: number): Promise<number> {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next += 1;
      const response = await run();
      if (response.status !== 200) throw new Error(`status ${response.status}`);
      await response.arrayBuffer();
    }
  };
  const before = process.cpuUsage();
  await Promise.all(Array.from({ length: INFLIGHT }, worker));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / n;
}

for (const name of Object.keys(peers)) {
  if ((only && !name.includes(only)) || (name.includes('hot route') && !hot['/health'])) delete peers[name];
}
for (const run of Object.values(peers)) await cpuPerRequest(run, 2000);
const results: Record<string, number[]> = {};
for (let round = 0; round < rounds; round++) {
  for (const [name, run] of Object.entries(peers)) {
    const list = results[name] ?? [];
    list.push(await cpuPerRequest(run, name.startsWith('health') ? total * 2 : total));
    results[name] = list;
  }
}
for (const [name, list] of Object.entries(results)) {
  const sorted = [...list].sort((a, b) => a - b);
  console.log(
    `${name.padEnd(22)} µs CPU/request: median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(1)}  all ${list.map((v) => v.toFixed(1)).join(' ')}`,
  );
}
await sql.end();
await close();
await database.close();
await pg.drop();
