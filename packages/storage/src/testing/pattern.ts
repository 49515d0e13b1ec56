/** Deterministic test and benchmark payloads (no test-runner imports, so benchmarks can load this alone). */

/** A stream of `total` pseudo-random bytes in `chunk`-sized pieces, with no declared length. */
export function patternStream(total: number, chunk = 64 * 1024): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close();
      const size = Math.min(chunk, total - sent);
      const piece = new Uint8Array(size);
      for (let i = 0; i < size; i++) piece[i] = ((sent + i) * 2654435761) >>> 24;
      sent += size;
      controller.enqueue(piece);
    },
  });
}

/** A loopback port with nothing listening on it (bound, then released), for "service unreachable" tests. */
export function closedPort(): number {
  const listener = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
  const { port } = listener;
  listener.stop(true);
  return port;
}
