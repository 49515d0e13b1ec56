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

/**
 * The users holding all but the reserved share of `capacity` (places or slots; none when there is only one).
 * `owned`: how many held items have an owner, when the caller keeps count; with none there is nothing to count,
 * which saves an O(places) pass each time an item starts (the operator's own tasks).
 */
export function usersAtCap(held: Iterable<Held>, capacity: number, owned = Number.POSITIVE_INFINITY): Set<string> {
  if (capacity <= RESERVED_PLACES || owned === 0) return new Set();
  const full = [...placesByUser(held)].filter(([, count]) => count >= capacity - RESERVED_PLACES);
  return new Set(full.map(([user]) => user));
}

/**
 * What the worker's next claim must respect. `starved`: a slot is free but no waiting item may take it (all belong
 * to a user at the running cap), so the claim should not wait for the local queue's half-empty refill.
 * `excludeOwners`: users the claim leaves out (at the place cap, or at the running cap while starved).
 */
export function claimLimits(
  running: ReadonlyMap<Held, unknown>,
  waiting: readonly Held[],
  slots: number,
  places: number,
  owned = Number.POSITIVE_INFINITY,
): { starved: boolean; excludeOwners: string[] } {
  if (owned === 0) return { starved: running.size < slots && waiting.length === 0, excludeOwners: [] };
  const atRunCap = usersAtCap(running.keys(), slots);
  const starved = running.size < slots && nextToStart(waiting, atRunCap) < 0;
  const excluded = usersAtCap([...running.keys(), ...waiting], places);
  if (starved) for (const user of atRunCap) excluded.add(user);
  return { starved, excludeOwners: [...excluded] };
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

/**
 * How many of `wanted` items a claim takes so that no user it may return goes past the place cap, whatever owners the
 * items have: at most the least room left among the users not excluded that hold places or came in the last claim
 * (`pastCap` hands back what does not fit, a release and a claim again each; with one user's task running, each freed
 * slot cost one). With neither, the claim is not cut (the operator's tasks). `limited`: it was cut, so the place left
 * is for others, claimed when a slot frees. At least 1.
 */
export function claimSize(
  held: Iterable<Held>,
  places: number,
  excluded: readonly string[],
  lastClaimed: ReadonlySet<string>,
  wanted: number,
): { limit: number; limited: boolean } {
  if (places <= RESERVED_PLACES) return { limit: wanted, limited: false };
  const cap = places - RESERVED_PLACES;
  const counts = placesByUser(held);
  for (const user of lastClaimed) if (!counts.has(user)) counts.set(user, 0);
  let room = wanted;
  for (const [user, count] of counts) if (!excluded.includes(user)) room = Math.min(room, cap - count);
  const limit = Math.max(1, room);
  return { limit, limited: limit < wanted };
}

/** Where in `waiting` the next item to start is: the first not of a user at the running cap; -1 when none may. */
export function nextToStart(waiting: readonly Held[], atRunCap: ReadonlySet<string>): number {
  return waiting.findIndex(({ item }) => !item.userId || !atRunCap.has(item.userId));
}
