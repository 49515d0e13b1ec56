/** `mediaforge workers`: who is working, where, and what each has done (the seed's worker stats). */
import { defineCommand } from 'citty';
import { jsonArg } from '../args.ts';
import { withContext } from '../context.ts';
import { printJson, printTable } from '../output.ts';
import { formatDuration } from '../progress.ts';

export default defineCommand({
  meta: { name: 'workers', description: 'Show workers: state, heartbeats, load and items processed' },
  args: {
    all: { type: 'boolean', description: 'Include workers that have stopped' },
    ...jsonArg,
  },
  run: ({ args }) =>
    withContext(async (ctx) => {
      const stats = await (await ctx.tasks()).getWorkerStats();
      const shown = args.all ? stats.workers : stats.workers.filter((worker) => worker.state !== 'stopped');
      if (args.json) {
        return printJson({ workers: shown, activeTasks: stats.activeTasks, activeItems: stats.activeItems });
      }
      const now = Date.now();
      printTable(
        ['WORKER', 'HOST', 'PID', 'STATE', 'ACTIVE', 'ITEMS', 'PROCESSED', 'FAILED', 'QUEUES', 'LAST SEEN', 'UP'],
        shown.map((worker) => [
          worker.id,
          worker.host,
          String(worker.pid),
          worker.state,
          `${worker.active}/${worker.concurrency}`,
          String(worker.activeItems),
          String(worker.processed),
          String(worker.failed),
          worker.queues.join(','),
          `${formatDuration(Math.max(0, now - worker.lastSeen.getTime()) / 1000)} ago`,
          formatDuration(((worker.stoppedAt ?? new Date(now)).getTime() - worker.startedAt.getTime()) / 1000),
        ]),
      );
      if (stats.activeItems.byTask.length > 0) {
        process.stdout.write('\n');
        printTable(
          ['TASK', 'KIND', 'QUEUE', 'RUNNING', 'CAP', 'PER WORKER'],
          stats.activeItems.byTask.map((task) => [
            task.taskId,
            task.kind,
            task.queue,
            String(task.running),
            task.maxConcurrent === null ? '-' : String(task.maxConcurrent),
            Object.entries(task.byWorker)
              .map(([worker, n]) => `${worker}=${n}`)
              .join(' '),
          ]),
        );
      }
      const hidden = stats.workers.length - shown.length;
      process.stderr.write(
        `${shown.length} worker(s)${hidden ? ` (${hidden} stopped; --all shows them)` : ''}, ${stats.activeTasks} active task(s)\n`,
      );
    }),
});
