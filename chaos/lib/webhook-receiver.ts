/**
 * A webhook receiver for the fault run: verifies every signature, answers 500 to a share of deliveries (seeded),
 * and counts what it accepted per delivery id and per task, so "exactly one accepted event per task" can be checked.
 */

import { verifyWebhook } from '@mediaforge/core';
import type postgres from 'postgres';
import { seededRandom, Tally } from './net.ts';

export interface WebhookReceiver {
  url: string;
  secret: string;
  /** 2xx answers per delivery id (more than 1: the same event sent again after a lost acknowledgement). */
  accepted: Tally;
  /** Distinct delivery ids accepted per task. */
  acceptedIdsByTask: Map<string, Set<string>>;
  /** 500s injected, refused signatures. */
  faults: Tally;
  setFaultRate(rate: number): void;
  close(): void;
}

export function startWebhookReceiver({ seed, faultRate }: { seed: number; faultRate: number }): WebhookReceiver {
  const random = seededRandom(seed);
  const secret = 'chaos-webhook-secret-0123456789';
  const accepted = new Tally();
  const faults = new Tally();
  const acceptedIdsByTask = new Map<string, Set<string>>();
  let rate = faultRate;
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      let event: ReturnType<typeof verifyWebhook>;
      try {
        event = verifyWebhook({
          body: await request.text(),
          signature: request.headers.get('mediaforge-signature'),
          secret,
        });
      } catch {
        faults.add('bad signature');
        return new Response('bad signature', { status: 401 });
      }
      if (random() < rate) {
        faults.add('500 injected');
        return new Response('injected', { status: 500 });
      }
      accepted.add(event.id);
      const ids = acceptedIdsByTask.get(event.taskId) ?? new Set<string>();
      ids.add(event.id);
      acceptedIdsByTask.set(event.taskId, ids);
      return new Response('ok');
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}/hook`,
    secret,
    accepted,
    acceptedIdsByTask,
    faults,
    setFaultRate: (next) => {
      rate = next;
    },
    close: () => server.stop(true),
  };
}

/** Waits (at most `ms`) until no webhook delivery is pending or in flight. */
export async function deliveriesSettled(sql: postgres.Sql, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const [open] = await sql<{ n: number }[]>`
      select count(*)::int as n from webhook_deliveries where status in ('pending', 'delivering')`;
    if (open?.n === 0) return;
    await Bun.sleep(250);
  }
}
