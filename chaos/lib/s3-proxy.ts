/**
 * A fault-injecting HTTP proxy in front of the S3 server. Requests pass through untouched (the SDK's signature
 * covers the Host header, which is forwarded as sent), except those picked for a fault: S3's own 503 SlowDown and
 * 500 InternalError replies, a connection reset while a PUT body (an object or a multipart part) is arriving, or
 * added latency. `outage(ms)` closes the listener and every open connection, so for that long connections are
 * refused outright.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { seededRandom, Tally } from './net.ts';

export const STORAGE_FAULTS = ['503 SlowDown', '500 InternalError', 'reset during PUT body', 'latency'] as const;
export type StorageFault = (typeof STORAGE_FAULTS)[number];

export interface S3FaultProxy {
  endpoint: string;
  faults: Tally;
  requests: Tally;
  /** Faults on this share of requests, drawn from `kinds` (default: all of them). */
  setFaultRate(rate: number, kinds?: readonly StorageFault[]): void;
  /** Connections refused for `ms` (listener closed, open connections cut). */
  outage(ms: number): Promise<void>;
  close(): Promise<void>;
}

const s3Error = (code: string, message: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>chaos</RequestId></Error>`;

export async function startS3FaultProxy(
  upstream: string,
  options: { seed: number; faultRate: number },
): Promise<S3FaultProxy> {
  const target = new URL(upstream);
  const random = seededRandom(options.seed);
  let faultRate = options.faultRate;
  let kinds: readonly StorageFault[] = STORAGE_FAULTS;
  const faults = new Tally();
  const requests = new Tally();
  const sockets = new Set<Socket>();

  const forward = (req: IncomingMessage, res: ServerResponse) => {
    const outbound = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    outbound.on('error', () => res.destroy());
    req.pipe(outbound);
  };

  const reply = (req: IncomingMessage, res: ServerResponse, status: number, code: string, message: string) => {
    req.resume();
    req.on('end', () => {
      const body = s3Error(code, message);
      res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  };

  const server = http.createServer((req, res) => {
    const operation = `${req.method} ${new URL(req.url ?? '/', 'http://x').searchParams.has('partNumber') ? 'part' : 'object'}`;
    requests.add(operation);
    if (random() >= faultRate) return forward(req, res);
    const fault = kinds[Math.floor(random() * kinds.length)] ?? 'latency';
    if (fault === 'reset during PUT body' && req.method !== 'PUT') return forward(req, res);
    faults.add(fault);
    switch (fault) {
      case '503 SlowDown':
        return reply(req, res, 503, 'SlowDown', 'Please reduce your request rate.');
      case '500 InternalError':
        return reply(req, res, 500, 'InternalError', 'We encountered an internal error. Please try again.');
      case 'reset during PUT body': {
        let seen = 0;
        req.on('data', (chunk: Buffer) => {
          seen += chunk.length;
          if (seen > 1024) req.socket.destroy();
        });
        req.on('end', () => req.socket.destroy());
        return;
      }
      default:
        setTimeout(() => forward(req, res), 50 + Math.floor(random() * 250));
    }
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  const port = await listen(0);
  const stopListening = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      // Node calls back once every connection is gone; do not wait on a straggler forever.
      setTimeout(resolve, 2000).unref();
    });

  return {
    endpoint: `http://127.0.0.1:${port}`,
    faults,
    requests,
    setFaultRate(rate, only = STORAGE_FAULTS) {
      faultRate = rate;
      kinds = only;
    },
    async outage(ms) {
      faults.add('connections refused (outage)');
      await stopListening();
      await Bun.sleep(ms);
      await listen(port);
    },
    close: stopListening,
  };
}
