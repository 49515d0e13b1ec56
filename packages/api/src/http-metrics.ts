/**
 * The HTTP request counter and latency histogram, counted in plain numbers per request and turned into Prometheus
 * metrics on scrape. prom-client's `inc`/`observe` hash their label object on every call (~5% of a record read in
 * a profile); here a request costs one Map lookup by a string key and a few additions. The exposition is prom-client's:
 * both are registered in its Registry as metrics with `get()`, in the same names, types, labels and buckets.
 */
import type { MetricObjectWithValues, MetricValue, Registry } from 'prom-client';

const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

interface RouteStats {
  method: string;
  route: string;
  statuses: Map<number, number>;
  /** Observations per bucket, not yet cumulative; the last slot is above the largest bound (+Inf). */
  buckets: Float64Array;
  sum: number;
  count: number;
}

export class HttpMetrics {
  /** Keyed by `${method} ${route}`: the route is the matched pattern (or 'unmatched'), so the set stays bounded. */
  private readonly routes = new Map<string, RouteStats>();

  constructor(registry: Registry) {
    const requests = {
      name: 'mediaforge_http_requests_total',
      help: 'HTTP requests by method, route pattern and status',
      type: 'counter',
      aggregator: 'sum',
      get: async () => this.counterValues(requests),
    };
    const duration = {
      name: 'mediaforge_http_request_duration_seconds',
      help: 'HTTP request duration until the response headers, by method and route pattern',
      type: 'histogram',
      aggregator: 'sum',
      get: async () => this.histogramValues(duration),
    };
    registry.registerMetric(requests as never);
    registry.registerMetric(duration as never);
  }

  /** Counts one request: its method, route pattern, status, and seconds until its response was ready. */
  record(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${route}`;
    let stats = this.routes.get(key);
    if (!stats) {
      stats = { method, route, statuses: new Map(), buckets: new Float64Array(BUCKETS.length + 1), sum: 0, count: 0 };
      this.routes.set(key, stats);
    }
    stats.statuses.set(status, (stats.statuses.get(status) ?? 0) + 1);
    let slot = 0;
    while (slot < BUCKETS.length && seconds > (BUCKETS[slot] as number)) slot++;
    stats.buckets[slot] = (stats.buckets[slot] ?? 0) + 1;
    stats.sum += seconds;
    stats.count += 1;
  }

  private counterValues(meta: { name: string; help: string; type: string; aggregator: string }) {
    const values: MetricValue<string>[] = [];
    for (const { method, route, statuses } of this.routes.values()) {
      for (const [status, n] of statuses) values.push({ labels: { method, route, status: String(status) }, value: n });
    }
    return { ...meta, values } as unknown as MetricObjectWithValues<MetricValue<string>>;
  }

  private histogramValues(meta: { name: string; help: string; type: string; aggregator: string }) {
    const values: (MetricValue<string> & { metricName: string })[] = [];
    for (const { method, route, buckets, sum, count } of this.routes.values()) {
      let cumulative = 0;
      for (let slot = 0; slot <= BUCKETS.length; slot++) {
        cumulative += buckets[slot] ?? 0;
        const le = slot < BUCKETS.length ? String(BUCKETS[slot]) : '+Inf';
        values.push({ metricName: `${meta.name}_bucket`, labels: { method, route, le }, value: cumulative });
      }
      values.push({ metricName: `${meta.name}_sum`, labels: { method, route }, value: sum });
      values.push({ metricName: `${meta.name}_count`, labels: { method, route }, value: count });
    }
    return { ...meta, values } as unknown as MetricObjectWithValues<MetricValue<string>>;
  }
}
