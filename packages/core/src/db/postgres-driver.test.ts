/**
 * postgres.js 3.4.9 defers small writes with setImmediate; when the connection closes first, the deferred write
 * dereferenced the dropped socket and threw an uncaught TypeError that ended the process (porsager/postgres#1066,
 * #1154, #1208 — seen here as a worker exiting 1 in the faults scenario). `patches/postgres@3.4.9.patch` settles
 * the pending query as CONNECTION_CLOSED instead. The reproduction of #1208 (a reserved connection whose backend is
 * terminated) runs in a child process, so that an uncaught exception shows as the child's output and exit code.
 *
 * Unpatched, the queries after the first also wait for ever. Patched, they are refused too, except that when the
 * kill arrives as a TCP reset one later query on the same pinned connection can still wait (upstream; our code pins
 * a connection only for migrations and transactions). So attempts are bounded here, and at most one may be
 * `unsettled`.
 */
import { expect, test } from 'bun:test';
import { skipPostgres, TEST_DATABASE_URL } from '../testing/index.ts';

const child = `
import postgres from 'postgres';
const url = process.env.DRIVER_TEST_URL;
const sql = postgres(url, { max: 2, onnotice: () => {} });
const killer = postgres(url, { max: 1, onnotice: () => {} });
const reserved = await sql.reserve();
const [{ pid }] = await reserved\`select pg_backend_pid() as pid\`;
await killer\`select pg_terminate_backend(\${pid})\`;
const codes = [];
for (let attempt = 0; attempt < 3; attempt++) {
  const settled = reserved\`select 1\`.then(() => 'ok', (error) => error.code ?? String(error));
  codes.push(await Promise.race([settled, Bun.sleep(3000).then(() => 'unsettled')]));
}
reserved.release();
await Promise.race([sql.end({ timeout: 1 }), Bun.sleep(3000)]);
await Promise.race([killer.end({ timeout: 1 }), Bun.sleep(3000)]);
console.log(JSON.stringify(codes));
process.exit(0);
`;

const CONNECTION_LOST = /^(CONNECTION_(CLOSED|DESTROYED|ENDED)|ECONNRESET)$/;

test.skipIf(skipPostgres)(
  'a query on a connection whose backend was terminated is rejected, and the process lives on',
  async () => {
    for (let run = 0; run < 3; run++) {
      const spawned = Bun.spawn([process.execPath, '-e', child], {
        cwd: import.meta.dir,
        env: { ...process.env, DRIVER_TEST_URL: TEST_DATABASE_URL },
        stdout: 'pipe',
        stderr: 'pipe',
      });
      const [stdout, stderr, code] = await Promise.all([
        new Response(spawned.stdout).text(),
        new Response(spawned.stderr).text(),
        spawned.exited,
      ]);
      // Unpatched, the deferred write throws from an immediate callback: an uncaught TypeError on stderr.
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      const codes = JSON.parse(stdout.trim()) as string[];
      expect(codes).toHaveLength(3);
      // The first query after the kill is refused with a typed connection error; none succeeds on the dead backend.
      expect(codes[0]).toMatch(CONNECTION_LOST);
      for (const result of codes)
        expect(result).toMatch(/^(CONNECTION_(CLOSED|DESTROYED|ENDED)|ECONNRESET|unsettled)$/);
      // Unpatched, every query after the first waits for ever; patched, at most one does (the reset path above).
      expect(codes.filter((result) => result === 'unsettled').length).toBeLessThanOrEqual(1);
    }
  },
  60_000,
);
