/**
 * LISTEN on PostgreSQL over one dedicated connection that we own.
 *
 * postgres.js has its own `listen`, but after the server restarts it re-subscribes with listener objects its
 * `unlisten` no longer knows, and closing then re-subscribes once more: the process never exits (found by the chaos
 * suite: a worker SIGTERMed after a PostgreSQL restart logged "worker stopped" and hung). Here the channels are
 * ours: after a lost connection they are listened to again with backoff, and `close()` stops everything for good.
 * Notifications sent while the connection is down are lost; every listener also polls, so that costs only latency.
 */
import type postgres from 'postgres';
import { backoffMs } from '../retry/backoff.ts';
import { isTransientDatabaseFailure } from './errors.ts';

type Postgres = typeof postgres;

export interface PgListener {
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

const quote = (channel: string) => `"${channel.replace(/"/g, '""')}"`;

export function createPgListener(factory: Postgres, url: string): PgListener {
  const channels = new Map<string, Set<(payload: string) => void>>();
  let closing = false;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;

  // `onnotify` is how postgres.js delivers notifications to a client; its typings leave it out.
  const options = {
    max: 1,
    idle_timeout: 0,
    max_lifetime: null,
    connect_timeout: 10,
    fetch_types: false,
    onnotice: () => {},
    onnotify: (channel: string, payload: string) => {
      for (const fn of channels.get(channel) ?? []) fn(payload);
    },
    onclose: () => {
      if (!closing && channels.size > 0) schedule(0);
    },
  };
  const client = factory(url, options as Parameters<Postgres>[1]);

  function schedule(delayMs: number): void {
    if (closing || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      void resubscribe();
    }, delayMs);
  }

  async function resubscribe(): Promise<void> {
    try {
      for (const channel of channels.keys()) await client.unsafe(`listen ${quote(channel)}`);
      failures = 0;
    } catch {
      failures += 1;
      schedule(backoffMs(failures, { baseMs: 200, maxMs: 10_000 }));
    }
  }

  return {
    async listen(channel, onPayload) {
      let listeners = channels.get(channel);
      if (!listeners) {
        listeners = new Set();
        channels.set(channel, listeners);
        try {
          await client.unsafe(`listen ${quote(channel)}`);
        } catch (error) {
          // A connection refused or lost is what resubscribing is for: the channel stays and is listened to again
          // with backoff (a worker started while the database flaps used to exit 1 here, on `read ECONNRESET`).
          // Until then its listeners only poll. Anything else (a refused statement) is the caller's to see.
          if (!isTransientDatabaseFailure(error)) {
            channels.delete(channel);
            throw error;
          }
          failures += 1;
          schedule(backoffMs(failures, { baseMs: 200, maxMs: 10_000 }));
        }
      }
      listeners.add(onPayload);
      return async () => {
        const current = channels.get(channel);
        if (!current?.delete(onPayload) || current.size > 0) return;
        channels.delete(channel);
        if (!closing) await client.unsafe(`unlisten ${quote(channel)}`).catch(() => {});
      };
    },
    async close() {
      closing = true;
      if (retry) clearTimeout(retry);
      channels.clear();
      await client.end({ timeout: 1 }).catch(() => {});
    },
  };
}
