/**
 * Measures `/health` latency every ~50 ms from a process of its own, so the figures are the server's and not the
 * attacking test's event loop (which juggles thousands of sockets). One line per probe on stdout:
 * `<epoch ms when sent> <latency ms> <status>` (status 0: no answer within 10 s or a connection error).
 *
 * Usage: bun health-probe.child.ts <base url> [interval ms]
 */
const [base = 'http://127.0.0.1:8080', every = '50'] = process.argv.slice(2);
const url = new URL('/health', base);
const intervalMs = Number(every);

for (;;) {
  const sentAt = Date.now();
  const started = performance.now();
  let status = 0;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    await response.arrayBuffer();
    status = response.status;
  } catch {}
  const ms = performance.now() - started;
  process.stdout.write(`${sentAt} ${ms.toFixed(1)} ${status}\n`);
  await Bun.sleep(Math.max(0, intervalMs - ms));
}
