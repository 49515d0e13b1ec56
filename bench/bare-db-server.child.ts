/**
 * The anchor for database-backed reads: a bare Bun.serve answering `GET /v1/records/{uid}` with one prepared
 * postgres.js query (the same pool size as `mediaforge serve`) and the row as JSON: the least any database read can
 * do in this runtime. No key, no routing, no validation. Prints its URL, then serves until killed.
 * Usage: bun bench/bare-db-server.child.ts <database-url>
 */
import postgres from 'postgres';

const [url = ''] = process.argv.slice(2);
const sql = postgres(url, { max: 10, onnotice: () => {} });
const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  idleTimeout: 0,
  async fetch(request) {
    const path = new URL(request.url).pathname;
    const uid = path.slice(path.lastIndexOf('/') + 1);
    const [row] = await sql`select * from records where uid = ${uid}`;
    return row ? Response.json(row) : new Response('not found', { status: 404 });
  },
});
console.log(server.url.toString());
