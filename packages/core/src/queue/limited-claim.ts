/**
 * Claims for tasks with a `maxConcurrent` cap, enforced across every worker with no leader: a worker claims a capped
 * task's items only while holding the task's row lock (`for update skip locked`), and counts its running items in a
 * later statement, so it sees every claim committed before it took the lock. Uncapped items never wait for this.
 */
import { type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import { type Executor, rows } from './rows.ts';
import { type ClaimedItem, claimItems, claimSelected, DUE } from './statements.ts';

/** Capped tasks looked at per claim: enough to fill a worker, few enough to keep a claim cheap. */
const TASKS_PER_CLAIM = 8;
/**
 * While no capped task is found, a worker looks again at most this often, so a queue of uncapped items is claimed
 * in one round trip as before; a capped task waits at most this long for its first claim on a busy worker.
 */
const LOOK_AGAIN_AFTER_MS = 250;
/** When each worker (by id) last looked for capped tasks, and whether it found any. */
const looked = new Map<string, { at: number; found: boolean }>();

export interface ClaimInput {
  workerId: string;
  queues: readonly string[];
  limit: number;
  leaseMs: number;
  /** Users whose items this claim leaves out (the worker's slot reserve); their capped tasks too. */
  excludeOwners?: readonly string[];
}

/** A task's owner (its user, '' for the operator's) is none of `owners`; the list travels as one JSON parameter. */
function notOwnedBy(userId: SQL, owners: readonly string[] = []): SQL {
  return sql`not coalesce(${userId}, '') = any(array(select jsonb_array_elements_text(${JSON.stringify(owners)}::jsonb)))`;
}

/** What a worker claims: items of capped tasks (within their caps) first, then uncapped items. */
export async function claimWork(db: Db, input: ClaimInput): Promise<ClaimedItem[]> {
  const last = looked.get(input.workerId);
  const now = performance.now();
  let limited: ClaimedItem[] = [];
  if (!last || last.found || now - last.at >= LOOK_AGAIN_AFTER_MS) {
    const found = await claimCapped(db, input);
    if (looked.size > 1000) looked.clear();
    looked.set(input.workerId, { at: now, found: found.candidates > 0 });
    limited = found.claimed;
  }
  if (limited.length >= input.limit) return limited;
  const rest = { ...input, limit: input.limit - limited.length };
  const excludeOwners = input.excludeOwners ?? [];
  return [
    ...limited,
    ...(await (excludeOwners.length > 0 ? claimOthers(db, { ...rest, excludeOwners }) : claimItems(db, rest))),
  ];
}

/**
 * Claims up to `limit` uncapped items of owners other than `excludeOwners` (user ids; '' is the operator's tasks):
 * what a worker claims for its reserved slot while one owner holds the rest (see the worker's slot reserve). Walks
 * the active tasks and takes each one's first queued items through `task_items_queued_task_idx`, so the cost follows
 * the number of active tasks, not the excluded owner's backlog, which the claim index would make it scan.
 */
async function claimOthers(db: Db, input: ClaimInput & { excludeOwners: readonly string[] }): Promise<ClaimedItem[]> {
  return claimSelected(
    db,
    input,
    sql`
      select i.id from tasks t
      cross join lateral (
        select id, priority, fair_at from task_items
        where task_id = t.id and status = 'queued' and ${DUE} and max_concurrent is null
        order by seq
        limit ${input.limit}
        for update skip locked
      ) i
      where t.status in ('queued', 'running') and t.queue = any(string_to_array(${input.queues.join(',')}, ','))
        and ${notOwnedBy(sql`t.user_id`, input.excludeOwners)}
      order by i.priority desc nulls last, i.fair_at, i.id
      limit ${input.limit}`,
  );
}

/** Claims up to `limit` items of capped tasks in the worker's queues, never past a task's `maxConcurrent`. */
async function claimCapped(db: Db, input: ClaimInput): Promise<{ claimed: ClaimedItem[]; candidates: number }> {
  const candidates = await rows<{ id: string }>(
    db,
    sql`
    select id from tasks
    where status in ('queued', 'running') and options -> 'limits' ? 'maxConcurrent'
      and queue = any(string_to_array(${input.queues.join(',')}, ','))
      and ${notOwnedBy(sql`user_id`, input.excludeOwners)}
    order by random() limit ${TASKS_PER_CLAIM}`,
  );
  const claimed: ClaimedItem[] = [];
  for (const { id } of candidates) {
    const room = input.limit - claimed.length;
    if (room <= 0) break;
    claimed.push(...(await db.transaction((tx) => claimWithinCap(tx as unknown as Executor, id, room, input))));
  }
  return { claimed, candidates: candidates.length };
}

async function claimWithinCap(tx: Executor, taskId: string, room: number, input: ClaimInput): Promise<ClaimedItem[]> {
  const [locked] = await rows(tx, sql`select id from tasks where id = ${taskId} for update skip locked`);
  // Another worker is claiming this task's items right now: leave it to them.
  if (!locked) return [];
  return claimSelected(
    tx,
    input,
    sql`
      select id from task_items
      where task_id = ${taskId} and status = 'queued' and ${DUE} and max_concurrent is not null
      order by priority desc, fair_at, id
      limit greatest(0, least(${room}::int, (select (options -> 'limits' ->> 'maxConcurrent')::int from tasks where id = ${taskId})
            - (select count(*) from task_items where task_id = ${taskId} and status = 'running')))
      for update skip locked`,
  );
}
