import { expect, test } from 'bun:test';
import { join } from 'node:path';

// A real TLS origin in a child process that trusts the test CA (NODE_EXTRA_CA_CERTS is read at start-up only).
const child = join(import.meta.dir, '../../test/download-tls.child.ts');
const run = async (env: Record<string, string>) => {
  const proc = Bun.spawn([process.execPath, child], {
    env: { ...process.env, ...env },
    stdout: 'pipe',
    stderr: 'inherit',
  });
  const out = await new Response(proc.stdout).text();
  expect(await proc.exited).toBe(0);
  return JSON.parse(out) as Record<string, { ok?: string; code?: string; message?: string }> & { hosts: string[] };
};

test('https downloads connect to the checked address (no proxy) and still verify the certificate for the name asked for', async () => {
  // A proxy in the environment that nothing listens on: used, it would fail every download here.
  const results = await run({
    NODE_EXTRA_CA_CERTS: join(import.meta.dir, '../../test/fixtures/tls/ca.pem'),
    HTTPS_PROXY: 'http://127.0.0.1:9',
    https_proxy: 'http://127.0.0.1:9',
  });
  // The name reached the server in SNI (its certificate was accepted for it) and in Host.
  expect(results.named).toEqual({ ok: 'over tls' });
  expect(results.named2).toEqual({ ok: 'over tls' });
  expect(results.hosts.every((host) => host.startsWith('origin.mediaforge.test:'))).toBe(true);
  // The same address under another name: the certificate does not name it, so it is refused (no pooled bypass).
  expect(results.otherName).toMatchObject({ code: 'DOWNLOAD_NETWORK' });
  expect(results.otherName?.message).toContain('ERR_TLS_CERT_ALTNAME_INVALID');
});

test('an https origin whose certificate no trusted CA signed is refused', async () => {
  const results = await run({ NODE_EXTRA_CA_CERTS: '' });
  expect(results.named).toMatchObject({ code: 'DOWNLOAD_NETWORK' });
  expect(results.named?.message).toContain('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  expect(results.hosts).toEqual([]);
});
