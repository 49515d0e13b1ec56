/**
 * Child of download-tls.test.ts, run with NODE_EXTRA_CA_CERTS naming the test CA (Bun reads it at start-up only).
 * A TLS origin on loopback holds a certificate for `origin.mediaforge.test`; the test resolver maps every name to
 * 127.0.0.1. Prints what each download did, as JSON.
 */
import { join } from 'node:path';
import { downloadBytes } from '../src/ingest/download.ts';

const fixtures = join(import.meta.dir, 'fixtures/tls');
const hosts: string[] = [];
const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  tls: { cert: Bun.file(join(fixtures, 'origin.pem')), key: Bun.file(join(fixtures, 'origin.key')) },
  fetch(request) {
    hosts.push(request.headers.get('host') ?? '');
    return new Response('over tls');
  },
});
const policy = { allowPrivate: true, resolve: async () => [{ address: '127.0.0.1', family: 4 }] };
const outcome = async (url: string) =>
  downloadBytes(url, { policy, retries: 0 }).then(
    ({ bytes }) => ({ ok: new TextDecoder().decode(bytes) }),
    (error: { code?: string; message?: string }) => ({ code: error.code, message: error.message }),
  );
const results = {
  named: await outcome(`https://origin.mediaforge.test:${server.port}/a`),
  // Same address and port, already pooled for the first name: this name's certificate must still be checked.
  otherName: await outcome(`https://other.mediaforge.test:${server.port}/b`),
  named2: await outcome(`https://origin.mediaforge.test:${server.port}/c`),
  hosts,
};
server.stop(true);
console.log(JSON.stringify(results));
