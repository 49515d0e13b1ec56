/** `mediaforge schedules add|list|remove|runs`: cron schedules that queue generate auto, URL ingests or maintenance. */
import { ALL_USERS, SCHEDULE_ACTIONS, type ScheduleRow, Schedules, userScope } from '@mediaforge/core';
import { defineCommand } from 'citty';
import { jsonArg, optionalIntArg, parseChoice, parseSizeKbArg } from '../args.ts';
import { CLIError } from '../cli-error.ts';
import { type CommandContext, withContext } from '../context.ts';
import { printJson, printTable } from '../output.ts';

const userArg = {
  user: { type: 'string', description: "The owner: act on that user's schedules (default: no owner)" },
} as const;
const scopeOf = (user: string | undefined) => (user ? userScope(user) : ALL_USERS);
const service = async (ctx: CommandContext) =>
  new Schedules({ database: await ctx.database(), settings: ctx.settings });

const add = defineCommand({
  meta: {
    name: 'add',
    description: 'Add a schedule (workers fire each tick once; missed ticks: only the latest runs)',
  },
  args: {
    cron: {
      type: 'string',
      description: 'Cron expression: 5 fields, or 6 with seconds first (at most every SCHEDULE_MIN_INTERVAL_SECONDS)',
      required: true,
    },
    action: { type: 'string', description: `What each tick queues: ${SCHEDULE_ACTIONS.join(', ')}`, required: true },
    name: { type: 'string', description: 'A name to recognise it by (default: action and cron)' },
    tz: { type: 'string', description: 'IANA time zone the expression is read in (default UTC)' },
    limit: { type: 'string', description: 'generate_auto: records per tick (default 100)' },
    size: { type: 'string', description: 'generate_auto: file size in KiB (default 15)' },
    urls: { type: 'string', description: 'ingest: comma-separated URLs (at most SCHEDULE_MAX_URLS)' },
    'from-file': { type: 'string', description: 'ingest: read URLs from a file, one per line' },
    'allow-private': { type: 'boolean', description: 'ingest: allow loopback and private targets' },
    'older-than-days': { type: 'string', description: 'maintenance: prune items finished longer ago (default 7)' },
    ...userArg,
    ...jsonArg,
  },
  run: ({ args }) =>
    withContext(async (ctx) => {
      const action = parseChoice(args.action, 'action', SCHEDULE_ACTIONS) as (typeof SCHEDULE_ACTIONS)[number];
      const urls = (args.urls ?? '')
        .split(',')
        .map((url) => url.trim())
        .filter(Boolean);
      if (args['from-file']) {
        const file = Bun.file(args['from-file']);
        if (!(await file.exists())) throw new CLIError(`--from-file ${args['from-file']}: no such file`);
        urls.push(
          ...(await file.text())
            .split('\n')
            .map((line) => line.trim())
            .filter((l) => l && !l.startsWith('#')),
        );
      }
      const limit = optionalIntArg(args.limit, 'limit');
      const size = args.size === undefined ? undefined : parseSizeKbArg(args.size, ctx.settings);
      const days = optionalIntArg(args['older-than-days'], 'older-than-days');
      const params = {
        ...(limit !== undefined ? { limit } : {}),
        ...(size !== undefined ? { fileSizeKb: size } : {}),
        ...(urls.length > 0 ? { urls } : {}),
        ...(args['allow-private'] ? { allowPrivate: true } : {}),
        ...(days !== undefined ? { olderThanDays: days } : {}),
      };
      const schedule = await (await service(ctx)).add(scopeOf(args.user), {
        cron: String(args.cron),
        action,
        params,
        ...(args.name ? { name: args.name } : {}),
        ...(args.tz ? { timezone: args.tz } : {}),
      });
      if (args.json) printJson(schedule);
      else {
        process.stdout.write(`${schedule.id}\n`);
        process.stderr.write(
          `schedule added; next run ${schedule.nextRunAt.toISOString()} (a worker must be running)\n`,
        );
      }
    }),
});

const list = defineCommand({
  meta: { name: 'list', description: 'List schedules with their next run, last task and counts' },
  args: { ...userArg, ...jsonArg },
  run: ({ args }) =>
    withContext(async (ctx) => {
      const found = await (await service(ctx)).list(scopeOf(args.user));
      if (args.json) return printJson({ schedules: found });
      printTable(
        ['ID', 'NAME', 'CRON', 'TZ', 'ACTION', 'NEXT RUN', 'FIRED', 'SKIPPED', 'LAST TASK', 'LAST ERROR'],
        found.map((s: ScheduleRow) => [
          s.id,
          s.name,
          s.cron,
          s.timezone,
          s.action,
          s.nextRunAt.toISOString(),
          String(s.fired),
          String(s.skipped),
          s.lastTaskId ?? '-',
          s.lastError ?? '',
        ]),
      );
      process.stderr.write(`${found.length} schedule(s)\n`);
    }),
});

const remove = defineCommand({
  meta: { name: 'remove', description: 'Remove a schedule (tasks it queued stay)' },
  args: { id: { type: 'positional', description: 'Schedule id', required: true }, ...userArg, ...jsonArg },
  run: ({ args }) =>
    withContext(async (ctx) => {
      await (await service(ctx)).remove(String(args.id), scopeOf(args.user));
      if (args.json) printJson({ id: args.id, removed: true });
      else process.stderr.write(`schedule ${args.id} removed\n`);
    }),
});

const runs = defineCommand({
  meta: { name: 'runs', description: 'The ticks a schedule fired, newest first, with their tasks' },
  args: {
    id: { type: 'positional', description: 'Schedule id', required: true },
    limit: { type: 'string', description: 'At most this many (default 20)' },
    ...userArg,
    ...jsonArg,
  },
  run: ({ args }) =>
    withContext(async (ctx) => {
      const limit = optionalIntArg(args.limit, 'limit', { max: 10_000 }) ?? 20;
      const found = await (await service(ctx)).runs(String(args.id), scopeOf(args.user), { limit });
      if (args.json) return printJson({ runs: found });
      printTable(
        ['TICK', 'TASK', 'ERROR', 'WORKER'],
        found.map((r) => [r.tick.toISOString(), r.taskId ?? '-', r.errorCode ?? '', r.workerId ?? '']),
      );
    }),
});

export default defineCommand({
  meta: { name: 'schedules', description: 'Cron schedules that queue work (generate auto, URL ingest, maintenance)' },
  subCommands: { add, list, remove, runs },
});
