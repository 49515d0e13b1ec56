/** `mediaforge jobs retry|dead|webhook`: failed items queued again, the dead letters, and a task's webhook deliveries. */
import { ALL_USERS } from '@mediaforge/core/scope';
import { listDeadLetters, retryTask, taskWebhookView } from '@mediaforge/core/tasks';
import { defineCommand } from 'citty';
import { jsonArg, optionalIntArg } from '../args.ts';
import { withContext } from '../context.ts';
import { printJson, printTable } from '../output.ts';

const idArg = { id: { type: 'positional', description: 'Task id', required: true } } as const;
const clip = (text: string | null, width = 60) =>
  text === null ? '' : text.length > width ? `${text.slice(0, width - 1)}…` : text;

export const retry = defineCommand({
  meta: { name: 'retry', description: "Queue a task's failed and cancelled items again, with fresh attempts" },
  args: { ...idArg, 'failed-only': { type: 'boolean', description: 'Leave cancelled items alone' }, ...jsonArg },
  run: ({ args }) =>
    withContext(async (ctx) => {
      const result = await retryTask((await ctx.database()).db, String(args.id), ALL_USERS, {
        failedOnly: args['failed-only'] ?? false,
      });
      if (args.json) printJson(result);
      else {
        process.stderr.write(
          `queued ${result.requeued} item(s) again; follow with \`mediaforge jobs watch ${result.taskId}\`\n`,
        );
      }
      return 0;
    }),
});

export const dead = defineCommand({
  meta: { name: 'dead', description: 'Dead letters: failed items, newest first, with their last error' },
  args: {
    task: { type: 'string', description: 'Only items of this task' },
    limit: { type: 'string', description: 'At most this many (default 50, at most 1000; fewer past 1 MiB)' },
    cursor: { type: 'string', description: 'Continue after a previous page (its nextCursor)' },
    ...jsonArg,
  },
  run: ({ args }) =>
    withContext(async (ctx) => {
      const { items, nextCursor } = await listDeadLetters((await ctx.database()).db, ALL_USERS, {
        limit: optionalIntArg(args.limit, 'limit', { max: 1000 }) ?? 50,
        ...(args.task ? { taskId: args.task } : {}),
        ...(args.cursor ? { cursor: args.cursor } : {}),
      });
      if (args.json) return printJson(nextCursor ? { items, nextCursor } : { items });
      printTable(
        ['TASK', 'SEQ', 'TRIES', 'WHAT', 'ERROR', 'FAILED'],
        items.map((item) => [
          item.taskId,
          String(item.seq),
          `${item.attempts}/${item.maxAttempts}`,
          clip(String(item.payload.url ?? item.payload.uid ?? ''), 50),
          clip(`${item.errorCode ?? ''}: ${item.errorMessage ?? ''}`),
          item.finishedAt?.toISOString() ?? '',
        ]),
      );
      if (nextCursor) process.stderr.write(`more follow: --cursor ${nextCursor}\n`);
      if (items.length > 0) process.stderr.write('retry a task with `mediaforge jobs retry TASK`\n');
    }),
});

export const webhook = defineCommand({
  meta: { name: 'webhook', description: "A task's webhook deliveries: status, attempts, last answer" },
  args: { ...idArg, ...jsonArg },
  run: ({ args }) =>
    withContext(async (ctx) => {
      const view = await taskWebhookView((await ctx.database()).db, String(args.id), ALL_USERS);
      if (args.json) return printJson({ webhook: view });
      if (!view) {
        process.stderr.write('this task names no webhook\n');
        return 0;
      }
      process.stdout.write(`url  ${view.url}${view.eachItem ? ' (each item)' : ''}\n`);
      printTable(
        ['DELIVERY', 'EVENT', 'STATUS', 'TRIES', 'HTTP', 'LAST ANSWER OR ERROR', 'NEXT'],
        view.deliveries.map((d) => [
          d.id,
          d.itemSeq === null ? d.event : `${d.event} #${d.itemSeq}`,
          d.status,
          `${d.attempts}/${d.maxAttempts}`,
          d.lastStatus === null ? '' : String(d.lastStatus),
          clip(d.lastError ?? d.lastResponse, 50).replaceAll('\n', ' '),
          d.nextAttemptAt?.toISOString() ?? '',
        ]),
      );
    }),
});
