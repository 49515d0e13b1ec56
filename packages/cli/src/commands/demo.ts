/**
 * `mediaforge demo`: the quick start's main job. Creates a mixed set of records (all four media types), generates
 * their files with progress, verifies every object (sha256 and a full integrity check), and prints where each one
 * is. Re-running reuses the demo records and only fills in what is missing.
 */
import { fileURLToPath } from 'node:url';
import {
  ALL_USERS,
  formatBytes,
  MEDIA_TYPES,
  type MediaRecord,
  readAll,
  sha256Hex,
  validateFileIntegrity,
} from '@mediaforge/core';
import { defineCommand } from 'citty';
import { jsonArg, parseIntArg } from '../args.ts';
import { CLIError } from '../cli-error.ts';
import { withContext } from '../context.ts';
import { printJson, printTable } from '../output.ts';
import { createProgress } from '../progress.ts';

export const DEMO_GENERATION_ID = 'mediaforge-demo';

export default defineCommand({
  meta: { name: 'demo', description: 'Create sample records of every media type, generate and verify their files' },
  args: {
    count: { type: 'string', description: 'Records per media type (default 2)', default: '2' },
    size: { type: 'string', description: 'File size in KiB (default 15)', default: '15' },
    ...jsonArg,
  },
  run: ({ args }) =>
    withContext(async (ctx) => {
      const perType = parseIntArg(args.count, 'count', { max: 250 });
      const fileSizeKb = parseIntArg(args.size, 'size', { max: Math.floor(ctx.settings.maxFileSizeBytes / 1024) });
      if (fileSizeKb < 2) throw new CLIError('--size must be at least 2 KiB for the demo');
      const repository = await ctx.records();
      const store = await ctx.store();

      // 1. Records: reuse the demo set, top it up to `perType` of each media type.
      const existing = await allDemoRecords();
      const toCreate = MEDIA_TYPES.flatMap((mediaType) => {
        const have = existing.filter((r) => r.mediaType === mediaType).length;
        return Array.from({ length: Math.max(0, perType - have) }, (_, i) => ({
          mediaType,
          title: `Demo ${mediaType} ${have + i + 1}`,
          language: 'te',
          generationId: DEMO_GENERATION_ID,
        }));
      });
      const created = toCreate.length > 0 ? await repository.createMany(toCreate, ALL_USERS) : [];
      if (!args.json) {
        process.stderr.write(
          `database: ${ctx.settings.databaseUrl ? 'PostgreSQL' : `embedded PGlite in ${ctx.settings.home}/db`}; ` +
            `storage: ${ctx.settings.storageUrl}\n` +
            `records: ${created.length} created, ${existing.length} reused\n`,
        );
      }

      // 2. Files for every demo record that has none yet.
      const generator = await ctx.generator();
      const missing = [...existing, ...created].filter((r) => !r.storageKey).map((r) => r.uid);
      const progress = createProgress('generating', { enabled: !args.json });
      const results = await generator.bulkProcessRecords(missing, {
        fileSizeKb,
        concurrency: 4,
        onProgress: (state) => progress.update(state),
      });
      progress.done();

      // 3. Verify every object against its record.
      const records = await allDemoRecords();
      const rows = await Promise.all(
        records.map(async (record) => {
          const verdict = await verify(record);
          const url = record.fileUrl ?? '';
          return {
            uid: record.uid,
            mediaType: record.mediaType,
            status: record.status,
            size: record.fileSize ?? 0,
            key: record.storageKey,
            location: url.startsWith('file:') ? fileURLToPath(url) : url,
            verified: verdict === 'ok',
            problem: verdict === 'ok' ? undefined : verdict,
          };
        }),
      );
      const failures = results.filter((r) => !r.success);
      const bad = rows.filter((r) => !r.verified);
      if (args.json) {
        printJson({
          storage: ctx.settings.storageUrl,
          created: created.length,
          generated: results.filter((r) => r.success).length,
          records: rows,
        });
      } else {
        printTable(
          ['UID', 'TYPE', 'STATUS', 'SIZE', 'VERIFIED', 'LOCATION'],
          rows.map((r) => [
            r.uid,
            r.mediaType,
            r.status,
            formatBytes(r.size),
            r.verified ? 'yes' : `NO: ${r.problem}`,
            r.location || '-',
          ]),
        );
        for (const failure of failures) {
          process.stderr.write(`failed ${failure.recordUid}: ${failure.error?.code}: ${failure.error?.message}\n`);
        }
        process.stderr.write(
          bad.length === 0
            ? `all ${rows.length} demo files are stored and verified. Next: mediaforge records list, mediaforge generate --help\n`
            : `${bad.length} of ${rows.length} demo files could not be verified\n`,
        );
      }
      return bad.length > 0 || failures.length > 0 ? 1 : 0;

      async function allDemoRecords(): Promise<MediaRecord[]> {
        const all: MediaRecord[] = [];
        let cursor: string | undefined;
        do {
          const page = await repository.list(ALL_USERS, { generationId: DEMO_GENERATION_ID, limit: 1000, cursor });
          all.push(...page.items);
          cursor = page.nextCursor;
        } while (cursor);
        return all;
      }

      async function verify(record: MediaRecord): Promise<string> {
        if (!record.storageKey || !record.contentType) return 'no file';
        const object = await store.get(record.storageKey);
        if (!object) return 'object missing';
        const bytes = await readAll(object.body);
        if (sha256Hex(bytes) !== record.sha256) return 'sha256 differs from the record';
        try {
          await validateFileIntegrity(bytes, record.contentType);
          return 'ok';
        } catch (error) {
          return (error as Error).message;
        }
      }
    }),
});
