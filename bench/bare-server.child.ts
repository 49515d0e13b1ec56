/**
 * The ceiling for the API benchmark: a bare Bun.serve doing the least the same routes could do. GET answers a fixed
 * record document (and `/health` its liveness document, built per request as mediaforge's is); POST streams the body
 * to a file, and with `?fsync` also syncs it to the disk before answering (mediaforge syncs every stored object: the
 * physical floor for a durable upload). Prints its URL, then serves until killed.
 * Usage: bun bench/bare-server.child.ts <record-json-file> <upload-dir>
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';

const [recordFile = '', uploadDir = ''] = process.argv.slice(2);
const record = await Bun.file(recordFile).text();
let uploads = 0;
const started = Date.now();
const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  idleTimeout: 0,
  maxRequestBodySize: 4 * 1024 ** 3,
  async fetch(request) {
    if (request.method === 'GET' && request.url.endsWith('/health')) {
      return Response.json({ status: 'ok', version: '0.0.0', uptimeSeconds: (Date.now() - started) / 1000 });
    }
    if (request.method === 'GET') return new Response(record, { headers: { 'content-type': 'application/json' } });
    const path = join(uploadDir, `upload-${uploads++}`);
    const writer = Bun.file(path).writer();
    let size = 0;
    for await (const chunk of request.body ?? []) {
      size += chunk.byteLength;
      writer.write(chunk);
    }
    await writer.end();
    if (new URL(request.url).searchParams.has('fsync')) {
      const handle = await open(path, 'r');
      await handle.sync();
      await handle.close();
    }
    return Response.json({ size }, { status: 201 });
  },
});
console.log(server.url.toString());
