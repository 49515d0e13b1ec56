/**
 * A TCP proxy on loopback in front of `target` (a PostgreSQL server, say), for tests of lost and refused connections:
 * it forwards bytes both ways; `stop()` closes it and every connection through it; `refuse()` answering true for a
 * new connection resets that one at once (as a flapping server does).
 */
export interface TcpProxy {
  port: number;
  stop(): void;
}

export function startTcpProxy(target: URL, options: { refuse?: () => boolean } = {}): TcpProxy {
  const peers = new Set<{ end(): void }>();
  const listener = Bun.listen<{ upstream?: Bun.Socket<undefined>; pending: Uint8Array[] }>({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      open(client) {
        client.data = { pending: [] };
        if (options.refuse?.()) {
          client.terminate();
          return;
        }
        peers.add(client);
        void Bun.connect({
          hostname: target.hostname,
          port: Number(target.port || 5432),
          socket: {
            data: (_upstream, chunk) => void client.write(chunk),
            close: () => {
              client.end();
            },
            error: () => {
              client.end();
            },
          },
        }).then((upstream) => {
          peers.add(upstream);
          client.data.upstream = upstream;
          for (const chunk of client.data.pending.splice(0)) upstream.write(chunk);
        });
      },
      data(client, chunk) {
        if (client.data.upstream) client.data.upstream.write(chunk);
        else client.data.pending.push(new Uint8Array(chunk));
      },
      close(client) {
        client.data.upstream?.end();
      },
    },
  });
  return {
    port: listener.port,
    stop() {
      listener.stop(true);
      for (const peer of peers) peer.end();
    },
  };
}
