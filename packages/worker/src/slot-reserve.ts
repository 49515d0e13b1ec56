/**
 * The slot reserve: one user holds at most all but one of a worker's places (slots plus prefetched items), so another
 * owner's item always finds one. Fair claiming orders what is claimed, but a claimed item keeps its slot until it
 * ends: a user's four trickling downloads held a worker's four slots, and everyone else's work, for up to 25 minutes.
 * While a user holds the rest, the last place takes only other owners' items (`claimOthers`); when none are waiting
 * it stays free. With `--prefetch` the same holds for running slots: a user runs at most all but one of them, and
 * the local queue starts another owner's item first when that user is at the limit. The operator's own tasks (no
 * user: the CLI, the library) are not limited.
 */
import type { ClaimedItem } from '@mediaforge/core';
import type { Held } from './held.ts';

/** Places of a worker one user cannot take while they hold the rest. */
export const RESERVED_PLACES = 1;

/** Places each user holds among `held` (running or waiting, not yet settled). */
function placesByUser(held: Iterable<Held>): Map<string, number> {
  const places = new Map<string, number>();
  for (const { item, settled } of held) {
    if (item.userId && !settled) places.set(item.userId, (places.get(item.userId) ?? 0) + 1);
  }
  return places;
}

/** The users a claim must leave out: those already holding all but the reserved places (none on a one-place worker). */
export function usersAtCap(held: Iterable<Held>, places: number): string[] {
  if (places <= RESERVED_PLACES) return [];
  return [...placesByUser(held)].filter(([, count]) => count >= places - RESERVED_PLACES).map(([user]) => user);
}

/**
 * Claimed items past the cap, to hand straight back: a claim takes whatever comes first in fair order, so a worker
 * below the cap can receive more of one user's items than fit. Handing back spends no attempt.
 */
export function pastCap(held: Iterable<Held>, claimed: readonly ClaimedItem[], places: number): ClaimedItem[] {
  if (places <= RESERVED_PLACES) return [];
  const counts = placesByUser(held);
  const past: ClaimedItem[] = [];
  for (const item of claimed) {
    if (!item.userId) continue;
    const count = counts.get(item.userId) ?? 0;
    if (count >= places - RESERVED_PLACES) past.push(item);
    else counts.set(item.userId, count + 1);
  }
  return past;
}

/** The users running all but one of `slots` (none when there is one slot): their waiting items may not start. */
export function usersAtRunCap(running: Iterable<Held>, slots: number): Set<string> {
  if (slots <= RESERVED_PLACES) return new Set();
  return new Set([...placesByUser(running)].filter(([, n]) => n >= slots - RESERVED_PLACES).map(([user]) => user));
}

/** Where in `waiting` the next item to start is: the first not of a user at the running cap; -1 when none may. */
export function nextToStart(waiting: readonly Held[], atRunCap: ReadonlySet<string>): number {
  return waiting.findIndex(({ item }) => !item.userId || !atRunCap.has(item.userId));
}
