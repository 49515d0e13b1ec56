/**
 * Raw HTTP/1.1 clients on a TCP socket, for what fetch cannot do: promise a body and never send it, or send it a
 * byte at a time. `closed` resolves when the socket closes (by either side) with how long it stayed open.
 */
import net from 'node:net';

export interface RawClient {
  socket: net.Socket;
  /** What the server sent so far. */
  received(): string;
  /** The status of the first response, or 0 while there is none. */
  status(): number;
  /** The `error.code` of the first response's JSON body, or ''. */
  code(): string;
  /** The Retry-After header of the first response, or ''. */
  retryAfter(): string;
  closed: Promise<number>;
  isClosed(): boolean;
}

export function rawClient(url: URL, head: string): Promise<RawClient> {
  return new Promise((resolve) => {
    const opened = Date.now();
    let text = '';
    let closedFlag = false;
    // Resolved once connected and the head is written, so that what the caller writes next follows it.
    const socket = net.connect(Number(url.port), url.hostname, () => {
      socket.write(head);
      resolve(client);
    });
    const closed = new Promise<number>((done) =>
      socket.on('close', () => {
        closedFlag = true;
        done(Date.now() - opened);
      }),
    );
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
    });
    // A reset by the server is one way of closing; the close event follows (and resolves a client never connected).
    socket.on('error', () => resolve(client));
    const client: RawClient = {
      socket,
      received: () => text,
      status: () => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0),
      code: () => /"code":"([A-Z_]+)"/.exec(text)?.[1] ?? '',
      retryAfter: () => /\r\nretry-after: *([^\r]+)/i.exec(text)?.[1] ?? '',
      closed,
      isClosed: () => closedFlag,
    };
  });
}

/** Sends `body` one byte every `everyMs`, stopping early if the socket closes. */
export async function drip(client: RawClient, body: string, everyMs: number): Promise<void> {
  for (const byte of body) {
    if (client.isClosed() || client.status() !== 0) return;
    client.socket.write(byte);
    await Bun.sleep(everyMs);
  }
}
