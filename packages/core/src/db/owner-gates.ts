/**
 * Per-user advisory locks (`pg_advisory_xact_lock`) make one user's quota checks and inserts take turns, across
 * processes. Waiting on one holds a pooled connection, so one user sending many such writes at once (record batches
 * that roll back cost them nothing) held 8–9 of a process's 10 connections waiting on their own lock, and every other
 * user's queries queued behind them: another user's one-record read went from 5 ms to 2.7 s. A gate per lock name
 * makes a process's transactions for the same user take turns _before_ they take a connection: within one process at
 * most one transaction per lock waits in the database (on another process's holder); the rest wait here, holding
 * nothing but their request. Past `MAX_WAITING` waiting on one name, a write is refused (CONCURRENCY_LIMITED) rather
 * than queued, so one user's waiting requests cannot grow without bound either.
 *
 * Gates are taken in name order and only outside transactions (a transaction waiting on a gate while holding a
 * database lock another gated transaction needs could deadlock), so taking several cannot deadlock.
 */
import { FileProcessingError } from '../errors.ts';

/** Transactions in line for one gate (the one holding it included) before more are refused. */
export const MAX_WAITING = 32;

/** The per-user lock names: one for the advisory lock in the database and the gate in front of it. */
export const recordsLock = (userId: string) => `mediaforge-records:${userId}`;
export const tasksLock = (userId: string) => `mediaforge-tasks:${userId}`;

interface Gate {
  tail: Promise<void>;
  waiting: number;
}

const gates = new WeakMap<object, Map<string, Gate>>();

/**
 * Runs `work` once this process holds the gate of each of `names` on `database` (any object identifying the database
 * handle, so two handles in one process, as tests open, still meet only in the database). @throws CONCURRENCY_LIMITED
 */
export async function withOwnerGates<T>(database: object, names: Iterable<string>, work: () => Promise<T>): Promise<T> {
  const releases: (() => void)[] = [];
  try {
    for (const name of [...new Set(names)].sort()) releases.push(await enter(database, name));
    return await work();
  } finally {
    for (const release of releases.reverse()) release();
  }
}

async function enter(database: object, name: string): Promise<() => void> {
  let byName = gates.get(database);
  if (!byName) {
    byName = new Map();
    gates.set(database, byName);
  }
  const gate = byName.get(name) ?? { tail: Promise.resolve(), waiting: 0 };
  if (gate.waiting >= MAX_WAITING) {
    throw new FileProcessingError(
      `Too many writes for the same user are waiting their turn (${MAX_WAITING}); retry when some have finished.`,
      'CONCURRENCY_LIMITED',
      { transient: true, details: { limit: MAX_WAITING } },
    );
  }
  let release = () => {};
  const mine = new Promise<void>((resolve) => {
    release = resolve;
  });
  const before = gate.tail;
  gate.tail = before.then(() => mine);
  gate.waiting += 1;
  byName.set(name, gate);
  await before;
  const map = byName;
  return () => {
    gate.waiting -= 1;
    release();
    if (gate.waiting === 0) map.delete(name);
  };
}
