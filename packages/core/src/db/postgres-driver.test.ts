/**
 * postgres.js 3.4.9 defers small writes with setImmediate; when the connection closes first, the deferred write
 * dereferenced the dropped socket and threw an uncaught TypeError that ended the process (porsager/postgres#1066,
 * #1154, #1208 — seen here as a worker exiting 1 in the faults scenario). `patches/postgres@3.4.9.patch` settles
 * the pending query as CONNECTION_CLOSED instead. The reproduction of #1208 runs in a child process, so that an
 * uncaught exception shows as the child's exit code rather than as noise in this test runner.
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
  await reserved\`select 1\`.then(() => codes.push('ok'), (error) => codes.push(error.code ?? String(error)));
}
reserved.release();
await sql.end({ timeout: 1 });
await killer.end({ timeout: 1 });
console.log(JSON.stringify(codes));
`;

test.skipIf(skipPostgres)(
  'a query on a connection whose backend was terminated is rejected, and the process lives on',
  async () => {
    const run = Bun.spawn([process.execPath, '-e', child], {
      env: { ...process.env, DRIVER_TEST_URL: TEST_DATABASE_URL },
      cwd: import.meta.dir,
      stdout: 'pipe',
      stderr: 'pipe',
    });
    const [stdout, stderr, code] = await Promise.all([
      new Response(run.stdout).text(),
      new Response(run.stderr).text(),
      run.exited,
    ]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const codes = JSON.parse(stdout.trim()) as string[];
    expect(codes).toHaveLength(3);
    // Every query after the kill is refused with a typed connection error; none hangs and none kills the process.
    for (const result of codes) expect(result).toMatch(/^CONNECTION_(CLOSED|DESTROYED|ENDED)$/);
  },
  30_000,
);
