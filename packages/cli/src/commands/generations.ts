/** `mediaforge generations show ID`: a generation's media with their status (the seed's update_generation_media). */
import { ALL_USERS, getGeneration, mediaSummary } from '@mediaforge/core';
import { defineCommand } from 'citty';
import { jsonArg, optionalIntArg } from '../args.ts';
import { withContext } from '../context.ts';
import { printJson, printTable } from '../output.ts';

const show = defineCommand({
  meta: { name: 'show', description: "Show a generation's media (its records) with their status, and its tasks" },
  args: {
    id: { type: 'positional', description: 'Generation id', required: true },
    limit: { type: 'string', description: 'Most media listed (1-1000, default 200; fewer past 1 MiB of records)' },
    cursor: { type: 'string', description: 'Continue after a previous page (its nextCursor)' },
    ...jsonArg,
  },
  run: ({ args }) =>
    withContext(async (ctx) => {
      const limit = optionalIntArg(args.limit, 'limit', { max: 1000 });
      const view = await getGeneration((await ctx.database()).db, args.id, ALL_USERS, {
        ...(limit === undefined ? {} : { limit }),
        cursor: args.cursor,
      });
      if (args.json) return printJson(view);
      const { counts } = view;
      process.stdout.write(
        `generation ${view.generationId}: ${counts.total} record(s) — ${counts.uploaded} uploaded, ` +
          `${counts.pending} pending, ${counts.processing} processing, ${counts.failed} failed\n`,
      );
      if (view.media.length > 0) {
        printTable(
          ['UID', 'TYPE', 'STATUS', 'MEDIA', 'NAME', 'ERROR'],
          view.media.map((r) => [
            r.uid,
            r.mediaType,
            r.status,
            mediaSummary(r),
            r.originalName ?? '',
            r.error?.slice(0, 80) ?? '',
          ]),
        );
      }
      if (view.nextCursor) {
        process.stderr.write(`showing ${view.media.length} of ${counts.total}; more: --cursor ${view.nextCursor}\n`);
      }
      for (const task of view.tasks) process.stdout.write(`task ${task.taskId} (${task.kind}): ${task.status}\n`);
    }),
});

export default defineCommand({
  meta: { name: 'generations', description: "Inspect a generation's media" },
  subCommands: { show },
});
