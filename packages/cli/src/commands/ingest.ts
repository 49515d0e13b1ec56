/** `mediaforge ingest <url...>`: download, check and store files from URLs as records (seed 004). */
import { stat } from 'node:fs/promises';
import { ALL_USERS, formatBytes, MAX_URL_LENGTH, processFileBatch, userScope } from '@mediaforge/core';
import { defineCommand } from 'citty';
import { jsonArg, parseIntArg } from '../args.ts';
import { CLIError } from '../cli-error.ts';
import { withContext } from '../context.ts';
import { ingestFilterArgs, parseIngestFilters } from '../ingest-filters.ts';
import { notifyArgs, notifyOptions } from '../notify-args.ts';
import { printJson, printTable } from '../output.ts';
import { createProgress } from '../progress.ts';
import { printQueued } from '../queued.ts';
import { parseRouting, routingArgs } from '../routing-args.ts';

export default defineCommand({
  meta: { name: 'ingest', description: 'Download files from URLs, verify them, store them and create their records' },
  args: {
    urls: { type: 'positional', description: 'URLs to ingest', required: false },
    'from-file': { type: 'string', description: 'Read URLs from a file, one per line (- for stdin)' },
    user: { type: 'string', description: 'Owner user id (duplicates are detected per owner)' },
    generation: { type: 'string', description: 'Generation id' },
    concurrency: {
      type: 'string',
      description: 'URLs downloaded at once (default 3); files already downloaded are stored meanwhile',
      default: '3',
    },
    'max-size': { type: 'string', description: 'Largest file in MB, at most MAX_FILE_SIZE_MB (the default)' },
    quality: { type: 'string', description: 'Image recompression quality 1-100 (default 85)', default: '85' },
    compress: {
      type: 'boolean',
      description: 'Recompress images (--no-compress keeps them as downloaded)',
      default: true,
    },
    'allow-private': {
      type: 'boolean',
      description: 'Allow loopback, private and link-local targets (trusted networks only)',
    },
    ...ingestFilterArgs,
    background: {
      type: 'boolean',
      description: 'Queue the batch for workers and print the task id instead of running it here',
    },
    ...notifyArgs,
    ...routingArgs,
    ...jsonArg,
  },
  run: ({ args, rawArgs }) =>
    withContext(async (ctx) => {
      const urls = [...(args._ ?? []).map(String)];
      const limit = ctx.settings.maxBatchSize;
      if (args['from-file']) {
        const source = args['from-file'];
        const text = source === '-' ? await readStdin(limit) : await readUrlFile(source, limit);
        urlLines(text, source, limit, urls);
      }
      if (urls.length === 0) throw new CLIError('give at least one URL, or --from-file');
      if (urls.length > limit) {
        throw new CLIError(`${urls.length} URLs is over MAX_BATCH_SIZE (${limit}); split the list`);
      }
      const maxSizeMb = args['max-size'] === undefined ? undefined : Number(args['max-size']);
      if (maxSizeMb !== undefined && !(maxSizeMb > 0)) {
        throw new CLIError(`--max-size must be a positive number of MB (got ${args['max-size']})`);
      }
      // --max-size tightens the limit for one run; only MAX_FILE_SIZE_MB raises it, so workers and the API agree.
      if (maxSizeMb !== undefined && maxSizeMb > ctx.settings.maxFileSizeMb) {
        throw new CLIError(
          `--max-size ${maxSizeMb} is above MAX_FILE_SIZE_MB (${ctx.settings.maxFileSizeMb}); set MAX_FILE_SIZE_MB to raise the limit`,
        );
      }
      const filters = await parseIngestFilters(args, rawArgs);
      const quality = parseIntArg(args.quality, 'quality', { min: 1, max: 100 });
      const concurrency = parseIntArg(args.concurrency, 'concurrency', { max: 64 });
      const notify = notifyOptions(args);
      const routing = parseRouting(args);
      if (args.background) {
        const taskId = await (await ctx.tasks()).queueFileProcessing({
          urls,
          scope: args.user ? userScope(args.user) : ALL_USERS,
          generationId: args.generation ?? null,
          options: {
            quality,
            compress: args.compress !== false,
            allowPrivate: args['allow-private'] ?? false,
            ...(maxSizeMb ? { maxSize: Math.floor(maxSizeMb * 1024 * 1024) } : {}),
            ...(filters.allowedTypeList ? { allowedTypes: filters.allowedTypeList } : {}),
            ...(filters.headers ? { headers: filters.headers } : {}),
          },
          ...notify,
          ...routing,
        });
        return printQueued(taskId, urls.length, args.json);
      }

      // A running total: summing every URL's bytes on each progress event made a large batch quadratic.
      let bytes = 0;
      const inFlight = new Map<string, { downloaded: number; total: number | undefined }>();
      const describe = () =>
        [...inFlight]
          .slice(0, 3)
          .map(([url, f]) => {
            const name = new URL(url).pathname.split('/').pop() || url;
            return `${name} ${formatBytes(f.downloaded)}${f.total ? `/${formatBytes(f.total)}` : ''}`;
          })
          .join(', ') + (inFlight.size > 3 ? ` +${inFlight.size - 3}` : '');
      const progress = createProgress('ingest', { enabled: !args.json });
      let completed = 0;
      let failedSoFar = 0;
      const report = () =>
        progress.update({
          completed,
          total: urls.length,
          failed: failedSoFar,
          bytes,
          // Described only when a line is drawn: building it on every byte count cost ~2% of a large ingest.
          detail: describe,
        });
      const controller = new AbortController();
      const onSignal = () => {
        process.stderr.write('\ninterrupted: cancelling downloads in flight\n');
        controller.abort(new Error('interrupted'));
      };
      process.once('SIGINT', onSignal);
      const result = await processFileBatch({
        db: (await ctx.database()).db,
        store: await ctx.store(),
        settings: ctx.settings,
        thumbnails: ctx.settings.uploads.thumbnails ?? false,
        policy: { allowPrivate: args['allow-private'] ?? false, allowHosts: ctx.settings.allowHosts },
        urls,
        maxConcurrent: concurrency,
        quality,
        compress: args.compress !== false,
        signal: controller.signal,
        logger: await ctx.logger(),
        ...(maxSizeMb ? { maxSize: Math.floor(maxSizeMb * 1024 * 1024) } : {}),
        ...(filters.allowedTypes ? { allowedTypes: filters.allowedTypes } : {}),
        ...(filters.headers ? { download: { headers: filters.headers } } : {}),
        ...(args.user ? { userId: args.user } : {}),
        ...(args.generation ? { generationId: args.generation } : {}),
        onBytes: (url, downloaded, total) => {
          bytes += downloaded - (inFlight.get(url)?.downloaded ?? 0);
          inFlight.set(url, { downloaded, total });
          report();
        },
        onProgress: (done, _total, url, ok) => {
          completed = done;
          if (!ok) failedSoFar += 1;
          inFlight.delete(url);
          report();
        },
      }).finally(() => {
        process.off('SIGINT', onSignal);
        progress.done();
      });

      if (args.json) printJson(result);
      else {
        if (result.processedFiles.length > 0)
          printTable(
            ['RECORD', 'TYPE', 'SIZE', 'KEY', 'NOTE', 'URL'],
            result.processedFiles.map((f) => [
              f.recordUid,
              f.mediaType,
              formatBytes(f.size),
              f.storageKey,
              f.duplicateOf
                ? `duplicate of ${f.duplicateOf}`
                : f.compressed
                  ? `compressed from ${formatBytes(f.originalSize)}`
                  : '',
              f.sourceUrl,
            ]),
          );
        process.stderr.write(
          `${result.processedFiles.length} of ${result.totalFiles} URL(s) stored in ${result.processingTime.toFixed(1)}s` +
            `${result.failedFiles.length ? `; ${result.failedFiles.length} failed:` : ''}\n`,
        );
        for (const failure of result.failedFiles) {
          process.stderr.write(`  ${failure.url}: ${failure.code}: ${failure.error}\n`);
        }
      }
      return result.failedFiles.length > 0 ? 1 : 0;
    }),
});

/**
 * The most a list of `limit` URLs can take, with room for comments and blank lines: a larger file is refused before
 * it is read (a list is held whole; a 2-million-line file overflowed the stack, a 50 MB line was taken as a URL).
 */
const listBytes = (limit: number) => 4 * limit * (MAX_URL_LENGTH + 1) + 64 * 1024;

async function readUrlFile(path: string, limit: number): Promise<string> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new CLIError(`--from-file ${path}: no such file`);
  if (info.isDirectory()) throw new CLIError(`--from-file ${path}: is a directory, not a file of URLs`);
  if (info.size > listBytes(limit)) {
    throw new CLIError(`--from-file ${path}: ${info.size} bytes, more than a list of MAX_BATCH_SIZE (${limit}) URLs`);
  }
  return Bun.file(path).text();
}

async function readStdin(limit: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of Bun.stdin.stream()) {
    size += chunk.byteLength;
    if (size > listBytes(limit))
      throw new CLIError(`--from-file -: more than a list of MAX_BATCH_SIZE (${limit}) URLs`);
    chunks.push(chunk);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

/** Adds the URLs of `text` (one per line; blank lines and `#` comments skipped) to `urls`, refusing an overlong line. */
function urlLines(text: string, source: string, limit: number, urls: string[]): void {
  let lineNumber = 0;
  for (let start = 0; start <= text.length; ) {
    const newline = text.indexOf('\n', start);
    const end = newline === -1 ? text.length : newline;
    const line = text.slice(start, end).trim();
    start = end + 1;
    lineNumber += 1;
    if (!line || line.startsWith('#')) continue;
    if (line.length > MAX_URL_LENGTH) {
      throw new CLIError(
        `--from-file ${source}: line ${lineNumber} is ${line.length} characters, over ${MAX_URL_LENGTH}`,
      );
    }
    urls.push(line);
    // Counting stops past the limit: the refusal below says so without holding the rest.
    if (urls.length > limit) throw new CLIError(`more than MAX_BATCH_SIZE (${limit}) URLs; split the list`);
  }
}
