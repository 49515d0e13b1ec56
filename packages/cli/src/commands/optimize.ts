/** `mediaforge optimize`: queue recompression of a user's or a generation's stored images (the optimization queue). */
import { ALL_USERS, queueOptimization } from '@mediaforge/core';
import { defineCommand } from 'citty';
import { jsonArg, optionalIntArg } from '../args.ts';
import { withContext } from '../context.ts';
import { printQueued } from '../queued.ts';
import { parseRouting, routingArgs } from '../routing-args.ts';

export default defineCommand({
  meta: {
    name: 'optimize',
    description: "Queue recompression of stored images (a user's or a generation's); results report bytes saved",
  },
  args: {
    user: { type: 'string', description: "Optimize this user's images" },
    generation: { type: 'string', description: "Optimize this generation's images" },
    quality: { type: 'string', description: 'Recompression quality 1-100 (default 80)' },
    limit: { type: 'string', description: 'At most this many records, oldest first (default MAX_BATCH_SIZE)' },
    ...routingArgs,
    ...jsonArg,
  },
  run: ({ args }) =>
    withContext(async (ctx) => {
      const quality = optionalIntArg(args.quality, 'quality', { max: 100 });
      const limit = optionalIntArg(args.limit, 'limit', { max: ctx.settings.maxBatchSize });
      // Always queued: optimization runs on workers serving the `optimization` queue.
      const routing = parseRouting({ ...args, background: true });
      const taskId = await queueOptimization(await ctx.tasks(), await ctx.database(), ctx.settings.maxBatchSize, {
        scope: ALL_USERS,
        ...(args.user ? { userId: args.user } : {}),
        ...(args.generation ? { generationId: args.generation } : {}),
        ...(quality !== undefined ? { quality } : {}),
        ...(limit !== undefined ? { limit } : {}),
        ...routing,
      });
      const task = await (await ctx.tasks()).getTask(taskId, ALL_USERS);
      return printQueued(taskId, task.total, args.json);
    }),
});
