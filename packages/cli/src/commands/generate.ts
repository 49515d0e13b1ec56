/** `mediaforge generate single|multiple|auto|list`: the seed's record file generator. */
import {
  ALL_USERS,
  type BulkOptions,
  DEFAULT_FILE_SIZE_KB,
  type FileResult,
  formatBytes,
  isUid,
  type MediaRecord,
} from '@mediaforge/core';
import { defineCommand } from 'citty';
import { jsonArg, optionalIntArg, parseIntArg, parseSizeKbArg } from '../args.ts';
import { CLIError } from '../cli-error.ts';
import { type CommandContext, withContext } from '../context.ts';
import { type NotifyArgs, notifyArgs, notifyOptions } from '../notify-args.ts';
import { printJson, printTable } from '../output.ts';
import { createProgress } from '../progress.ts';
import { printQueued } from '../queued.ts';
import { parseRouting, type RoutingArgs, routingArgs } from '../routing-args.ts';

const sharedArgs = {
  size: { type: 'string', description: `File size in KiB (default ${DEFAULT_FILE_SIZE_KB})` },
  concurrency: { type: 'string', description: 'Records processed at once (default 4)', default: '4' },
  rate: { type: 'string', description: 'At most this many records started per second' },
  force: { type: 'boolean', description: 'Regenerate records that already have a file' },
  update: { type: 'boolean', description: 'Update the records (--no-update only writes the objects)', default: true },
  'dry-run': { type: 'boolean', description: 'Show what would be generated, change nothing' },
  background: {
    type: 'boolean',
    description: 'Queue the records for workers and print the task id instead of generating them here',
  },
  ...notifyArgs,
  ...routingArgs,
  ...jsonArg,
} as const;

interface SharedArgs extends NotifyArgs, RoutingArgs {
  size?: string;
  concurrency?: string;
  rate?: string;
  force?: boolean;
  update?: boolean;
  'dry-run'?: boolean;
  background?: boolean;
  json?: boolean;
}

function bulkOptions(args: SharedArgs, ctx: CommandContext): BulkOptions & { fileSizeKb: number } {
  const fileSizeKb = args.size === undefined ? DEFAULT_FILE_SIZE_KB : parseSizeKbArg(args.size, ctx.settings);
  if (args.background && args.update === false) {
    throw new CLIError('--background always updates the records; drop --no-update');
  }
  if (args.background && args.rate !== undefined) {
    throw new CLIError('--rate applies to inline runs; workers set their own pace');
  }
  const rate = args.rate === undefined ? undefined : Number(args.rate);
  if (rate !== undefined && !(rate > 0)) throw new CLIError(`--rate must be a positive number (got ${args.rate})`);
  return {
    fileSizeKb,
    concurrency: parseIntArg(args.concurrency ?? '4', 'concurrency', { max: 256 }),
    ...(rate ? { ratePerSecond: rate } : {}),
    force: args.force ?? false,
    updateRecords: args.update !== false,
  };
}

/** Runs the batch with progress and a summary; exit 0 when every record succeeded, 1 otherwise. */
async function runBatch(ctx: CommandContext, uids: string[], args: SharedArgs, label: string): Promise<number> {
  const options = bulkOptions(args, ctx);
  const notify = notifyOptions(args);
  const routing = parseRouting(args);
  if (args['dry-run']) return dryRun(ctx, uids, options.fileSizeKb, args.json ?? false);
  if (args.background) {
    const taskId = await (await ctx.tasks()).queueRecordGeneration({
      uids,
      fileSizeKb: options.fileSizeKb,
      force: options.force ?? false,
      scope: ALL_USERS,
      ...notify,
      ...routing,
    });
    return printQueued(taskId, uids.length, args.json);
  }
  const generator = await ctx.generator();

  const controller = new AbortController();
  const onSignal = () => {
    process.stderr.write(
      '\ninterrupted: cancelling the uploads in flight (their records are marked failed) and starting no more\n',
    );
    controller.abort(new Error('interrupted'));
    process.off('SIGINT', onSignal);
  };
  process.on('SIGINT', onSignal);
  const progress = createProgress(label, { enabled: !args.json });
  const started = performance.now();
  let results: FileResult[];
  try {
    results = await generator.bulkProcessRecords(uids, {
      ...options,
      signal: controller.signal,
      onProgress: (state) => progress.update(state),
    });
  } finally {
    process.off('SIGINT', onSignal);
    progress.done();
  }
  const seconds = (performance.now() - started) / 1000;
  // The generator takes no logger (it reports through onProgress), so outcomes are logged once it is done.
  const logger = await ctx.logger();
  for (const { recordUid, outcome, uploadResult, error } of results) {
    if (error) logger.warn({ recordUid, code: error.code, error: error.message }, 'record file failed');
    else logger.info({ recordUid, outcome, storageKey: uploadResult?.key, size: uploadResult?.size }, 'record file');
  }
  const successful = results.filter((r) => r.success).length;
  const failed = results.filter((r) => !r.success);
  if (args.json) {
    printJson({ processed: results.length, successful, failed: failed.length, seconds, results });
  } else {
    printResults(results);
    const bytes = results.reduce((sum, r) => sum + (r.outcome === 'uploaded' ? (r.uploadResult?.size ?? 0) : 0), 0);
    const counts = countOutcomes(results);
    process.stderr.write(
      `${results.length} record(s) in ${seconds.toFixed(1)}s: ${counts}; ${formatBytes(bytes)} uploaded to ${(await ctx.store()).driver} storage\n`,
    );
    for (const result of failed) {
      process.stderr.write(`  failed ${result.recordUid}: ${result.error?.code}: ${result.error?.message}\n`);
    }
  }
  return failed.length > 0 ? 1 : 0;
}

function countOutcomes(results: FileResult[]): string {
  const counts = new Map<string, number>();
  for (const result of results) counts.set(result.outcome, (counts.get(result.outcome) ?? 0) + 1);
  return [...counts].map(([outcome, n]) => `${n} ${outcome}`).join(', ');
}

function printResults(results: FileResult[]): void {
  printTable(
    ['UID', 'TYPE', 'RESULT', 'SIZE', 'KEY'],
    results.map((r) => [
      r.recordUid,
      r.mediaType ?? '-',
      r.success ? r.outcome : `failed (${r.error?.code})`,
      r.uploadResult ? String(r.uploadResult.size) : '-',
      r.uploadResult?.key ?? '-',
    ]),
  );
}

async function dryRun(ctx: CommandContext, uids: string[], fileSizeKb: number, json: boolean): Promise<number> {
  const repository = await ctx.records();
  const plan = await Promise.all(
    uids.map(async (uid) => {
      if (!isUid(uid)) return { uid, action: 'invalid uid' };
      const record = await repository.find(uid, ALL_USERS);
      if (!record) return { uid, action: 'not found' };
      if (record.storageKey) return { uid, mediaType: record.mediaType, action: 'has a file (skip)' };
      return { uid, mediaType: record.mediaType, action: `generate ${fileSizeKb} KiB ${record.mediaType}` };
    }),
  );
  if (json) printJson({ dryRun: true, records: plan });
  else {
    printTable(
      ['UID', 'TYPE', 'PLAN'],
      plan.map((p) => [p.uid, p.mediaType ?? '-', p.action]),
    );
    process.stderr.write(`dry run: nothing was generated or changed\n`);
  }
  return plan.some((p) => p.action === 'invalid uid' || p.action === 'not found') ? 1 : 0;
}

const single = defineCommand({
  meta: { name: 'single', description: "Generate one record's file" },
  args: { uid: { type: 'string', description: 'Record UID', required: true }, ...sharedArgs },
  run: ({ args }) => withContext((ctx) => runBatch(ctx, [String(args.uid)], args, 'generate')),
});

const multiple = defineCommand({
  meta: { name: 'multiple', description: 'Generate files for the given records' },
  args: {
    uids: { type: 'string', description: 'Record UIDs, space- or comma-separated', required: true },
    ...sharedArgs,
  },
  run: ({ args }) =>
    withContext((ctx) => {
      const uids = [String(args.uids), ...(args._ ?? []).map(String)]
        .flatMap((value) => value.split(/[\s,]+/))
        .filter(Boolean);
      if (uids.length === 0) throw new CLIError('--uids needs at least one UID');
      if (uids.length > ctx.settings.maxBatchSize) {
        throw new CLIError(`--uids has ${uids.length} UIDs, over MAX_BATCH_SIZE (${ctx.settings.maxBatchSize})`);
      }
      return runBatch(ctx, uids, args, 'generate');
    }),
});

const auto = defineCommand({
  meta: { name: 'auto', description: 'Find records without files and generate them' },
  args: { limit: { type: 'string', description: 'At most this many records (default 100)' }, ...sharedArgs },
  run: ({ args }) =>
    withContext(async (ctx) => {
      const limit = optionalIntArg(args.limit, 'limit', { max: ctx.settings.maxBatchSize }) ?? 100;
      bulkOptions(args, ctx); // bad options are an error even when there is nothing to do
      const pending = await (await ctx.generator()).getRecordsWithoutFiles(limit);
      if (pending.length === 0) {
        if (args.json) printJson({ processed: 0, successful: 0, failed: 0, results: [] });
        else process.stderr.write('no records without files\n');
        return 0;
      }
      return runBatch(
        ctx,
        pending.map((r) => r.uid),
        args,
        'generate',
      );
    }),
});

const list = defineCommand({
  meta: { name: 'list', description: 'List records that have no file yet' },
  args: { limit: { type: 'string', description: 'At most this many (default 100)' }, ...jsonArg },
  run: ({ args }) =>
    withContext(async (ctx) => {
      const limit = optionalIntArg(args.limit, 'limit', { max: 100_000 }) ?? 100;
      const pending: MediaRecord[] = await (await ctx.generator()).getRecordsWithoutFiles(limit);
      if (args.json) return printJson({ count: pending.length, records: pending });
      printTable(
        ['UID', 'TYPE', 'STATUS', 'CREATED', 'ERROR'],
        pending.map((r) => [r.uid, r.mediaType, r.status, r.createdAt.toISOString(), r.error ?? '']),
      );
      process.stderr.write(`${pending.length} record(s) without files\n`);
    }),
});

export default defineCommand({
  meta: { name: 'generate', description: 'Generate sample media files for records (named by record UID)' },
  subCommands: { single, multiple, auto, list },
});
