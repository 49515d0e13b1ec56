/** `mediaforge jobs list|status|watch|cancel|prune` (retry, dead and webhook in jobs-extras.ts): background tasks on the database queue. */
import { TASK_KINDS, TASK_STATUSES, type TaskItemRow } from '@mediaforge/core/database';
import { formatBytes } from '@mediaforge/core/errors';
import { ALL_USERS } from '@mediaforge/core/scope';
import { itemsByWorker, type TaskManager, type TaskStatusView } from '@mediaforge/core/tasks';
import { defineCommand } from 'citty';
import { jsonArg, optionalIntArg, parseChoice } from '../args.ts';
import { CLIError } from '../cli-error.ts';
import { withContext } from '../context.ts';
import { printJson, printJsonStreaming, printTable } from '../output.ts';
import { createProgress, formatDuration } from '../progress.ts';
import { dead, retry, webhook } from './jobs-extras.ts';

const idArg = { id: { type: 'positional', description: 'Task id', required: true } } as const;

/** Failed items `jobs status` shows without --items (the rest are dead letters). */
const FAILED_SHOWN = 20;

/** Exit code for a finished task: 0 when every item succeeded. */
const exitFor = (status: TaskStatusView) => (status.status === 'succeeded' ? 0 : 1);

function summary(status: TaskStatusView): string {
  const p = status.progress;
  const parts = [`${p.completed}/${p.total} (${p.percent}%)`, `${p.succeeded} succeeded`];
  if (p.failed) parts.push(`${p.failed} failed`);
  if (p.cancelled) parts.push(`${p.cancelled} cancelled`);
  return parts.join(', ');
}

const list = defineCommand({
  meta: { name: 'list', description: 'List tasks, newest first' },
  args: {
    status: { type: 'string', description: `Only tasks in this state (${TASK_STATUSES.join(', ')})` },
    kind: { type: 'string', description: `Only tasks of this kind (${TASK_KINDS.join(', ')})` },
    user: { type: 'string', description: 'Only tasks of this user' },
    limit: { type: 'string', description: 'At most this many (default 20)' },
    cursor: { type: 'string', description: 'Continue from the nextCursor of a previous --json page' },
    ...jsonArg,
  },
  run: ({ args }) =>
    withContext(async (ctx) => {
      const manager = await ctx.tasks();
      const status = parseChoice(args.status, 'status', TASK_STATUSES);
      const kind = parseChoice(args.kind, 'kind', TASK_KINDS);
      const page = await manager.queue.listTasks({
        limit: optionalIntArg(args.limit, 'limit', { max: 1000 }) ?? 20,
        ...(status ? { status } : {}),
        ...(kind ? { kind } : {}),
        ...(args.user ? { userId: args.user } : {}),
        ...(args.cursor ? { cursor: args.cursor } : {}),
      });
      const views = await Promise.all(page.tasks.map((task) => manager.statusOf(task, { withFileIds: false })));
      await ctx.release();
      if (args.json)
        return printJson({ tasks: views.map(({ result: _r, ...view }) => view), nextCursor: page.nextCursor });
      printTable(
        ['TASK', 'KIND', 'STATUS', 'PROGRESS', 'USER', 'CREATED'],
        views.map((v) => [v.taskId, v.kind, v.status, summary(v), v.userId ?? '', v.createdAt.toISOString()]),
      );
      if (page.nextCursor) process.stderr.write(`more: --cursor ${page.nextCursor}\n`);
    }),
});

/** A task's items a page at a time: pages end short of their limit once past a byte budget, so only nextAfterSeq ends the walk. */
async function* itemPages(manager: TaskManager, id: string): AsyncGenerator<TaskItemRow[]> {
  let afterSeq: number | undefined;
  do {
    const page = await manager.queue.listItems(id, { limit: 1000, ...(afterSeq === undefined ? {} : { afterSeq }) });
    yield page.items;
    afterSeq = page.nextAfterSeq;
  } while (afterSeq !== undefined);
}

const ITEM_HEADERS = ['SEQ', 'STATUS', 'TRIES', 'WORKER', 'WHAT', 'RESULT'];

function itemRow(item: TaskItemRow): string[] {
  const progress = item.progress as { bytes?: number; total?: number } | null;
  const result = item.result as { recordUid?: string } | null;
  return [
    String(item.seq),
    item.status,
    String(item.attempts),
    item.lockedBy ?? '',
    String(item.payload.url ?? item.payload.uid ?? item.payload.action ?? ''),
    item.errorCode
      ? `${item.errorCode}: ${item.errorMessage ?? ''}`
      : (result?.recordUid ??
        (progress?.bytes !== undefined
          ? `${formatBytes(progress.bytes)}${progress.total ? `/${formatBytes(progress.total)}` : ''}`
          : '')),
  ];
}

async function printStatus(manager: TaskManager, id: string, showItems: boolean): Promise<TaskStatusView> {
  const status = await manager.getTaskStatus(id, ALL_USERS);
  const byWorker = await itemsByWorker(manager.queue.db, id);
  const lines: [string, string][] = [
    ['task', status.taskId],
    ['kind', status.kind],
    ['status', status.status],
    ['progress', summary(status)],
    ['created', status.createdAt.toISOString()],
  ];
  if (status.startedAt) lines.push(['started', status.startedAt.toISOString()]);
  if (status.finishedAt) lines.push(['finished', status.finishedAt.toISOString()]);
  if (status.result) lines.push(['time', `${status.result.processingTime.toFixed(1)}s`]);
  if (status.error) lines.push(['error', `${status.error.code}: ${status.error.message}`]);
  for (const worker of byWorker) {
    lines.push(['worker', `${worker.workerId}: ${worker.succeeded} succeeded, ${worker.failed} failed`]);
  }
  const width = Math.max(...lines.map(([key]) => key.length));
  process.stdout.write(`${lines.map(([key, value]) => `${key.padEnd(width)}  ${value}`).join('\n')}\n`);
  if (showItems) {
    // A page at a time (a task may have a million items): each page's columns are as wide as that page needs.
    let first = true;
    for await (const page of itemPages(manager, id)) {
      if (page.length === 0) continue;
      if (first) process.stdout.write('\n');
      printTable(ITEM_HEADERS, page.map(itemRow), { header: first });
      first = false;
    }
    return status;
  }
  const items = (await manager.queue.listItems(id, { status: 'failed', limit: FAILED_SHOWN })).items;
  if (items.length > 0) {
    process.stdout.write('\nfailed items:\n');
    printTable(ITEM_HEADERS, items.map(itemRow));
    if (status.progress.failed > items.length) {
      process.stdout.write(`…and ${status.progress.failed - items.length} more: mediaforge jobs dead --task ${id}\n`);
    }
  }
  return status;
}

const status = defineCommand({
  meta: { name: 'status', description: "Show a task's progress, result, errors and which workers did its items" },
  args: { ...idArg, items: { type: 'boolean', description: 'List every item' }, ...jsonArg },
  run: ({ args }) =>
    withContext(async (ctx) => {
      const manager = await ctx.tasks();
      const id = String(args.id);
      if (args.json) {
        const view = await manager.getTaskStatus(id, ALL_USERS);
        const workers = await itemsByWorker(manager.queue.db, id);
        if (args.items) await printJsonStreaming({ ...view, workers }, 'items', itemPages(manager, id));
        else printJson({ ...view, workers });
        return view.ready ? exitFor(view) : 0;
      }
      const view = await printStatus(manager, id, args.items ?? false);
      return view.ready ? exitFor(view) : 0;
    }),
});

const watch = defineCommand({
  meta: { name: 'watch', description: 'Follow a task with a live progress bar until it finishes' },
  args: {
    ...idArg,
    interval: { type: 'string', description: 'Refresh every this many milliseconds (default 500)' },
    ...jsonArg,
  },
  run: ({ args }) =>
    withContext(async (ctx) => {
      const manager = await ctx.tasks();
      const id = String(args.id);
      const interval = optionalIntArg(args.interval, 'interval', { min: 50, max: 60_000 }) ?? 500;
      const progress = createProgress(`task ${id.slice(0, 8)}`, { enabled: !args.json });
      let stop = false;
      const onSignal = () => {
        stop = true;
        process.stderr.write('\nstopped watching; the task goes on (cancel it with `mediaforge jobs cancel`)\n');
      };
      process.once('SIGINT', onSignal);
      let view = await manager.getTaskStatus(id, ALL_USERS);
      try {
        for (;;) {
          progress.update({
            completed: view.progress.completed,
            total: view.progress.total,
            failed: view.progress.failed,
            bytes: 0,
            detail: view.status,
          });
          if (view.ready || stop) break;
          await Bun.sleep(interval);
          view = await manager.getTaskStatus(id, ALL_USERS);
        }
      } finally {
        process.off('SIGINT', onSignal);
        progress.done();
      }
      if (args.json) printJson(view);
      else if (view.ready) {
        const time = view.result ? ` in ${formatDuration(view.result.processingTime)}` : '';
        process.stderr.write(`task ${view.status}${time}: ${summary(view)}\n`);
        if (view.error) process.stderr.write(`  ${view.error.code}: ${view.error.message}\n`);
      }
      return view.ready ? exitFor(view) : 130;
    }),
});

const cancel = defineCommand({
  meta: { name: 'cancel', description: 'Cancel a task: queued items never run, running ones are stopped' },
  args: { ...idArg, ...jsonArg },
  run: ({ args }) =>
    withContext(async (ctx) => {
      const manager = await ctx.tasks();
      const id = String(args.id);
      const cancelled = await manager.cancelTask(id, ALL_USERS);
      if (args.json) printJson({ taskId: id, cancelled });
      else if (cancelled) process.stderr.write(`task ${id} cancelled\n`);
      if (cancelled) return 0;
      // Say why: unknown, or already finished.
      const view = await manager.getTaskStatus(id, ALL_USERS);
      if (!args.json) process.stderr.write(`task ${id} is already ${view.status}; nothing to cancel\n`);
      return 1;
    }),
});

const prune = defineCommand({
  meta: {
    name: 'prune',
    description:
      'Delete the items of tasks finished long ago (their results are kept), and what crashes left: objects no record refers to, spools, temporary files',
  },
  args: {
    'older-than-days': { type: 'string', description: 'Tasks finished more than this many days ago (default 7)' },
    background: { type: 'boolean', description: 'Queue it as a maintenance task for a worker' },
    ...jsonArg,
  },
  run: ({ args }) =>
    withContext(async (ctx) => {
      const days = Number(args['older-than-days'] ?? 7);
      if (!(days >= 0)) throw new CLIError(`--older-than-days must be a number >= 0 (got ${args['older-than-days']})`);
      const manager = await ctx.tasks();
      if (args.background) {
        const taskId = await manager.queueMaintenance({ olderThanDays: days });
        if (args.json) printJson({ taskId, status: 'queued' });
        else process.stdout.write(`${taskId}\n`);
        return 0;
      }
      const pruned = await manager.queue.prune(days * 86_400_000);
      // What the maintenance task does too: unrecorded objects older than any claim may live, unfinished deletes.
      const graceMs = 2 * ctx.settings.taskTimeoutMinutes * 60_000;
      const { sweepObjects, sweepSpool } = await import('@mediaforge/core');
      const swept = await sweepObjects((await ctx.database()).db, await ctx.store(), { graceMs });
      const spools = await sweepSpool(ctx.settings.home, graceMs);
      const tempFiles = (await (await ctx.store()).sweepTemporary?.(graceMs)) ?? 0;
      const result = { ...pruned, sweptObjects: swept.removed, spools, tempFiles };
      if (args.json) printJson(result);
      else {
        process.stderr.write(
          `pruned ${result.items} item(s) of ${result.tasks} task(s); removed ${result.sweptObjects} unreferenced object(s), ${spools} spool file(s) and ${tempFiles} temporary file(s) left by crashes\n`,
        );
      }
      return 0;
    }),
});

export default defineCommand({
  meta: {
    name: 'jobs',
    description: 'Background tasks: list, status, watch, cancel, retry, dead letters, webhooks, prune',
  },
  subCommands: { list, status, watch, cancel, retry, dead, webhook, prune },
});
