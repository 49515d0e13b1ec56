/**
 * Keep-alive connection pools for downloads, one per network policy. A new TCP (and TLS) connection per URL was the
 * largest fixed cost of ingesting many small files from one origin; a pool reuses them. The SSRF guard is unchanged:
 * it runs in the `lookup` of every new connection, and a pooled socket is only handed to a request for the same host
 * and port (the agent's pool key) under the same policy (one pool per policy), so it is a connection to an address
 * that policy allowed for that host.
 */
import http from 'node:http';
import https from 'node:https';
import type { NetworkPolicy } from './guard.ts';

/** Idle pooled sockets are closed after this long, so a finished batch holds no connection open. */
const IDLE_SOCKET_MS = 2_000;
/** Idle sockets kept per origin (busy ones are not limited: concurrency is the caller's). */
const MAX_IDLE_PER_ORIGIN = 64;

interface Agents {
  http: http.Agent;
  https: https.Agent;
}

const byPolicy = new Map<string, Agents>();
/** Policies with their own resolver (tests) get pools of their own, dropped with the resolver. */
const byResolver = new WeakMap<NonNullable<NetworkPolicy['resolve']>, Map<string, Agents>>();

/** The pooled agent for this policy and protocol. */
export function agentFor(policy: NetworkPolicy, secure: boolean): http.Agent {
  const key = `${policy.allowPrivate ? 1 : 0}|${[...(policy.allowHosts ?? [])].sort().join(',')}`;
  let pools = byPolicy;
  if (policy.resolve) {
    pools = byResolver.get(policy.resolve) ?? new Map();
    byResolver.set(policy.resolve, pools);
  }
  let agents = pools.get(key);
  if (!agents) {
    const options = { keepAlive: true, maxFreeSockets: MAX_IDLE_PER_ORIGIN, timeout: IDLE_SOCKET_MS };
    agents = { http: new http.Agent(options), https: new https.Agent(options) };
    pools.set(key, agents);
  }
  return secure ? agents.https : agents.http;
}
