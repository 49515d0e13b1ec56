/**
 * The webhook deliverer every worker process runs beside its item loop: claims due deliveries from the database,
 * signs and POSTs them through the SSRF guard, and records each attempt. Retries back off with the queue's one
 * backoff formula; a delivery whose worker dies is taken up again when its lease expires. No leader is needed.
 *
 * Delivery is at-least-once: a worker killed after the receiver answered 2xx but before the row was updated sends
 * it again with the same `Mediaforge-Delivery` id, which receivers use to drop the repeat.
 */
import type { Db } from '../../db/database.ts';
import type { Logger } from '../../logging/logger.ts';
import { type BackoffOptions, backoffMs } from '../../retry/backoff.ts';
import { postWebhook } from './post.ts';
import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, signWebhook, type WebhookEvent } from './signature.ts';
import { type ClaimedDelivery, claimDeliveries, recordAttempt } from './statements.ts';

/** Bytes of a receiver's answer read and kept at most. */
export const WEBHOOK_RESPONSE_BYTES = 1024;

export interface WebhookDelivererOptions {
  db: Db;
  workerId: string;
  logger: Logger;
  /** Hosts a webhook may reach even on a private address (MEDIAFORGE_ALLOW_HOSTS, as for downloads). */
  allowHosts: readonly string[];
  /** One request's deadline (connect + answer). Default 10 s. */
  timeoutMs?: number;
  retry?: BackoffOptions;
  /** Requests in flight at once. Default 4. */
  concurrency?: number;
  /** How often to look for due deliveries when no NOTIFY comes (retries fall due without one). Default 2 s. */
  pollMs?: number;
  /** LISTEN on a channel (the database's `listen`): new deliveries wake the deliverer at once. */
  listen?: (channel: string, onPayload: (payload: string) => void) => Promise<() => Promise<void>>;
}

/** The channel the delivery triggers NOTIFY on commit. */
export const WEBHOOKS_CHANNEL = 'mediaforge_webhooks';

export class WebhookDeliverer {
  private running = false;
  private readonly inFlight = new Set<Promise<void>>();
  private loopDone: Promise<void> = Promise.resolve();
  private wake: (() => void) | undefined;
  private readonly timeoutMs: number;

  constructor(private readonly options: WebhookDelivererOptions) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  private unlisten: (() => Promise<void>) | undefined;
  private pending = false;

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    // Without LISTEN (a database that cannot give one now) the poll still finds every delivery, only later.
    this.unlisten = await this.options
      .listen?.(WEBHOOKS_CHANNEL, () => this.nudge())
      .catch((error: unknown) => {
        this.options.logger.warn({ err: (error as Error).message }, 'webhooks: no LISTEN; polling only');
        return undefined;
      });
    this.loopDone = this.loop();
  }

  /** Ends the current wait (a wake-up that comes while claiming is kept for the next wait). */
  private nudge(): void {
    if (this.wake) this.wake();
    else this.pending = true;
  }

  /**
   * Claims nothing more and waits for the requests in flight (each ends by its own deadline). With `flush`, first
   * sends every delivery due now (a batch worker's last task just finished): retries due later are left to others.
   */
  async stop({ flush = false }: { flush?: boolean } = {}): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loopDone;
    await this.unlisten?.().catch(() => {});
    await Promise.allSettled([...this.inFlight]);
    const deadline = Date.now() + 6 * this.timeoutMs;
    while (flush && Date.now() < deadline) {
      const due = await this.claim(this.options.concurrency ?? 4).catch(() => []);
      if (due.length === 0) break;
      await Promise.allSettled(due.map((delivery) => this.send(delivery)));
    }
  }

  private claim(limit: number): Promise<ClaimedDelivery[]> {
    // The lease outlives one request by a margin, so a live holder never loses it mid-request.
    return claimDeliveries(this.options.db, { workerId: this.options.workerId, limit, leaseMs: this.timeoutMs + 5000 });
  }

  private async loop(): Promise<void> {
    const concurrency = this.options.concurrency ?? 4;
    while (this.running) {
      const free = concurrency - this.inFlight.size;
      let claimed: ClaimedDelivery[] = [];
      if (free > 0) {
        try {
          claimed = await this.claim(free);
        } catch (error) {
          this.options.logger.warn({ err: (error as Error).message }, 'webhook claim failed');
        }
      }
      for (const delivery of claimed) {
        const sending: Promise<void> = this.send(delivery).finally(() => {
          this.inFlight.delete(sending);
          this.nudge();
        });
        this.inFlight.add(sending);
      }
      if (claimed.length === free && free > 0) continue;
      if (this.pending) {
        this.pending = false;
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.pollMs ?? 2000);
        this.wake = () => {
          clearTimeout(timer);
          this.wake = undefined;
          resolve();
        };
      });
    }
  }

  private async send(delivery: ClaimedDelivery): Promise<void> {
    const event: WebhookEvent = {
      id: delivery.id,
      type: delivery.event,
      taskId: delivery.taskId,
      createdAt: delivery.createdAt.toISOString(),
      data: delivery.payload,
    };
    const body = JSON.stringify(event);
    const result = await postWebhook({
      url: delivery.url,
      body,
      headers: {
        [SIGNATURE_HEADER]: signWebhook(body, delivery.secret),
        [DELIVERY_HEADER]: delivery.id,
        [EVENT_HEADER]: delivery.event,
      },
      policy: { allowPrivate: delivery.allowPrivate, allowHosts: this.options.allowHosts },
      timeoutMs: this.timeoutMs,
      maxResponseBytes: WEBHOOK_RESPONSE_BYTES,
    });
    const delivered = result.status !== null && result.status >= 200 && result.status < 300;
    const retry = !delivered && result.retryable && delivery.attempts < delivery.maxAttempts;
    const lastError = delivered ? null : (result.error ?? `the receiver answered ${result.status}`);
    try {
      const recorded = await recordAttempt(this.options.db, {
        id: delivery.id,
        workerId: this.options.workerId,
        delivered,
        retryInMs: retry ? backoffMs(delivery.attempts, this.options.retry) : null,
        lastStatus: result.status,
        lastError,
        lastResponse: result.snippet,
      });
      if (!recorded) this.options.logger.warn({ deliveryId: delivery.id }, 'webhook attempt not recorded: taken over');
    } catch (error) {
      // Unrecorded: the lease expires and the delivery is sent again (same id), which receivers dedupe.
      this.options.logger.warn({ deliveryId: delivery.id, err: (error as Error).message }, 'webhook record failed');
    }
    if (!delivered) {
      this.options.logger.info(
        { deliveryId: delivery.id, taskId: delivery.taskId, attempt: delivery.attempts, status: result.status, retry },
        `webhook not delivered: ${lastError}`,
      );
    }
  }
}
