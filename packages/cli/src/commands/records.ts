/** `mediaforge records create|list|show|reprobe|usage`. */
import type { MediaRecord } from '@mediaforge/core';
import { MEDIA_TYPES, RECORD_STATUSES } from '@mediaforge/core/database';
import { mediaSummary, userUsage } from '@mediaforge/core/records';
import { ALL_USERS } from '@mediaforge/core/scope';
import { defineCommand } from 'citty';
import { jsonArg, optionalIntArg, parseChoice, parseIntArg } from '../args.ts';
import { CLIError } from '../cli-error.ts';
import { withContext } from '../context.ts';
import { mediaRangeArgs, parseMediaRange } from '../media-args.ts';
import { printJson, printTable } from '../output.ts';

const create = defineCommand({
  meta: { name: 'create', description: 'Create records (pending, without files)' },
  args: {
    type: { type: 'string', description: `Media type: ${MEDIA_TYPES.join(', ')}`, required: true },
    title: { type: 'string', description: 'Title of the record(s)' },
    language: { type: 'string', description: 'Language code, e.g. te' },
    user: { type: 'string', description: 'Owning user id' },
    generation: { type: 'string', description: 'Generation id' },
    count: { type: 'string', description: 'How many records to create', default: '1' },
    ...jsonArg,
  },
  run: ({ args }) =>
    withContext(async (ctx) => {
      const mediaType = parseChoice(args.type, 'type', MEDIA_TYPES);
      if (!mediaType) throw new CLIError('--type is required');
      const count = parseIntArg(args.count, 'count', { max: 1_000_000 });
      const repository = await ctx.records();
      const created = await repository.createMany(
        Array.from({ length: count }, () => ({
          mediaType,
          title: args.title,
          language: args.language,
          userId: args.user,
          generationId: args.generation,
        })),
        ALL_USERS,
      );
      await ctx.release();
      if (args.json) return printJson({ created: created.length, records: created });
      for (const record of created) process.stdout.write(`${record.uid}\n`);
      process.stderr.write(`created ${created.length} ${mediaType} record(s)\n`);
    }),
});

const usage = defineCommand({
  meta: {
    name: 'usage',
    description:
      "A user's stored bytes, records and kept task input, against USER_STORAGE_QUOTA_MB, USER_MAX_RECORDS and USER_TASK_STORAGE_MB",
  },
  args: { user: { type: 'string', description: 'The user id', required: true }, ...jsonArg },
  run: ({ args }) =>
    withContext(async (ctx) => {
      if (!args.user) throw new CLIError('--user is required');
      const used = await userUsage((await ctx.database()).db, args.user, ctx.settings.quota);
      await ctx.release();
      if (args.json) return printJson(used);
      const limit = (value: number) => (value === 0 ? 'unlimited' : String(value));
      printTable(
        ['USER', 'STORED BYTES', 'STORAGE QUOTA', 'RECORDS', 'RECORD LIMIT', 'TASK BYTES', 'TASK QUOTA'],
        [
          [
            used.userId,
            String(used.storageBytes),
            limit(used.limits.storageBytes),
            String(used.records),
            limit(used.limits.maxRecords),
            String(used.taskBytes),
            limit(used.limits.taskBytes),
          ],
        ],
      );
    }),
});

const list = defineCommand({
  meta: { name: 'list', description: 'List records, oldest first' },
  args: {
    status: { type: 'string', description: `Filter by status: ${RECORD_STATUSES.join(', ')}` },
    type: { type: 'string', description: `Filter by media type: ${MEDIA_TYPES.join(', ')}` },
    user: { type: 'string', description: 'Filter by user id' },
    generation: { type: 'string', description: 'Filter by generation id' },
    'without-file': { type: 'boolean', description: 'Only records that have no file yet' },
    ...mediaRangeArgs,
    limit: { type: 'string', description: 'Page size (1-1000)', default: '50' },
    cursor: { type: 'string', description: 'Continue after a previous page (its nextCursor)' },
    ...jsonArg,
  },
  run: ({ args }) =>
    withContext(async (ctx) => {
      const options = {
        status: parseChoice(args.status, 'status', RECORD_STATUSES),
        mediaType: parseChoice(args.type, 'type', MEDIA_TYPES),
        userId: args.user,
        generationId: args.generation,
        withoutFile: args['without-file'],
        ...parseMediaRange(args),
        limit: optionalIntArg(args.limit, 'limit', { max: 1000 }),
        cursor: args.cursor,
      };
      const page = await (await ctx.records()).list(ALL_USERS, options);
      await ctx.release();
      if (args.json) return printJson(page);
      printTable(
        ['UID', 'TYPE', 'STATUS', 'SIZE', 'MEDIA', 'KEY', 'NAME'],
        page.items.map((r) => [
          r.uid,
          r.mediaType,
          r.status,
          r.fileSize?.toString() ?? '-',
          mediaSummary(r),
          r.storageKey ?? '-',
          r.originalName ?? r.title ?? '',
        ]),
      );
      if (page.nextCursor) process.stderr.write(`more records: --cursor ${page.nextCursor}\n`);
    }),
});

const show = defineCommand({
  meta: { name: 'show', description: 'Show one record' },
  args: {
    uid: { type: 'positional', description: 'Record UID', required: true },
    ...jsonArg,
  },
  run: ({ args }) =>
    withContext(async (ctx) => {
      const record = await (await ctx.records()).get(args.uid, ALL_USERS);
      await ctx.release();
      if (args.json) return printJson(record);
      printRecord(record);
    }),
});

function printRecord(record: MediaRecord): void {
  const width = Math.max(...Object.keys(record).map((key) => key.length));
  for (const [key, value] of Object.entries(record)) {
    const shown =
      value instanceof Date
        ? value.toISOString()
        : typeof value === 'object' && value !== null
          ? JSON.stringify(value)
          : String(value ?? '-');
    process.stdout.write(`${key.padEnd(width)}  ${shown}\n`);
  }
}

const reprobe = defineCommand({
  meta: {
    name: 'reprobe',
    description: "Re-read stored files to fill their records' media columns (records stored before they existed)",
  },
  args: {
    type: { type: 'string', description: `Only this media type: ${MEDIA_TYPES.join(', ')}` },
    limit: { type: 'string', description: 'Records per run (1-1000)', default: '100' },
    cursor: { type: 'string', description: 'Continue after a previous run (its nextCursor)' },
    ...jsonArg,
  },
  run: ({ args }) =>
    withContext(async (ctx) => {
      const mediaType = parseChoice(args.type, 'type', MEDIA_TYPES);
      const { reprobeMedia } = await import('@mediaforge/core');
      const result = await reprobeMedia(
        { db: (await ctx.database()).db, store: await ctx.store(), settings: ctx.settings },
        ALL_USERS,
        {
          limit: parseIntArg(args.limit, 'limit', { max: 1000 }),
          ...(mediaType ? { mediaType } : {}),
          ...(args.cursor ? { cursor: args.cursor } : {}),
        },
      );
      if (args.json) printJson(result);
      else {
        process.stderr.write(`re-read ${result.checked} file(s), updated ${result.updated}\n`);
        for (const failure of result.failed)
          process.stderr.write(`  ${failure.uid}: ${failure.code}: ${failure.message}\n`);
        if (result.nextCursor) process.stderr.write(`more records: --cursor ${result.nextCursor}\n`);
      }
      return result.failed.length > 0 ? 1 : 0;
    }),
});

export default defineCommand({
  meta: { name: 'records', description: 'Create, list, inspect and re-probe records' },
  subCommands: { create, list, show, reprobe, usage },
});
