/** The built-in item handlers: ingest a URL, generate a record's file, run maintenance, do nothing. */
import {
  ALL_USERS,
  createOriginSlots,
  type Db,
  FileProcessingError,
  type FileStore,
  ingestFiltersFromStored,
  optimizeRecord,
  processUrl,
  RecordFileGenerator,
  reapExpiredLeases,
  type Settings,
  sweepObjects,
  sweepSpool,
  type TaskKind,
  TaskQueue,
  userScope,
} from '@mediaforge/core';
import type { Handler } from './types.ts';

export interface HandlerDeps {
  db: Db;
  store: FileStore;
  settings: Settings;
  /** The worker's lease: a re-run may take over a record claim its dead predecessor left this long ago. */
  leaseMs: number;
}

const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
const num = (value: unknown) => (typeof value === 'number' ? value : undefined);

export function builtinHandlers(deps: HandlerDeps): Record<TaskKind, Handler> {
  const origins = createOriginSlots(deps.settings.download.perOrigin);
  const ownerScope = (item: { userId: string | null }) => (item.userId ? userScope(item.userId) : ALL_USERS);
  return {
    async ingest(item, ctx) {
      const url = text(item.payload.url);
      if (!url) throw new FileProcessingError('the item has no url', 'INVALID_ITEM');
      const options = item.options;
      const quality = num(options.quality);
      const maxSize = num(options.maxSize);
      // The request's type filter and its sealed headers, opened only now and only in memory.
      const filters = ingestFiltersFromStored(options, deps.settings.ingestHeadersKey);
      const file = await origins.run(url, (leaveOrigin) =>
        processUrl(url, {
          ...filters,
          db: deps.db,
          store: deps.store,
          settings: deps.settings,
          thumbnails: deps.settings.uploads.thumbnails ?? true,
          policy: { allowPrivate: options.allowPrivate === true, allowHosts: deps.settings.allowHosts },
          ...(item.userId ? { userId: item.userId } : {}),
          ...(item.generationId ? { generationId: item.generationId } : {}),
          compress: options.compress !== false,
          ...(quality !== undefined ? { quality } : {}),
          ...(maxSize !== undefined ? { maxSize } : {}),
          ...(text(item.payload.uid) ? { recordUid: text(item.payload.uid), firstAttempt: item.attempts <= 1 } : {}),
          signal: ctx.signal,
          onBytes: (_url, bytes, total) => ctx.reportProgress({ bytes, ...(total !== undefined ? { total } : {}) }),
          // Downloaded and checked: the origin's place and the worker's slot go to the next item while this one stores.
          onDownloaded: (bytesInMemory) => {
            leaveOrigin();
            return ctx.yieldSlot(bytesInMemory);
          },
        }),
      );
      return {
        recordUid: file.recordUid,
        storageKey: file.storageKey,
        size: file.size,
        sha256: file.sha256,
        contentType: file.contentType,
        ...(file.duplicateOf ? { duplicateOf: file.duplicateOf } : {}),
      };
    },
    async generate(item, ctx) {
      const uid = text(item.payload.uid);
      if (!uid) throw new FileProcessingError('the item has no uid', 'INVALID_ITEM');
      const fileSizeKb = num(item.options.fileSizeKb);
      // The task's owner is the scope: a user's task can only ever touch that user's records.
      const scope = ownerScope(item);
      const generator = new RecordFileGenerator({
        db: deps.db,
        store: deps.store,
        settings: deps.settings,
        scope,
        thumbnails: deps.settings.uploads.thumbnails ?? true,
      });
      const result = await generator.processRecord(uid, {
        ...(fileSizeKb !== undefined ? { fileSizeKb } : {}),
        force: item.options.force === true,
        signal: ctx.signal,
        ...(item.attempts > 1 ? { staleClaimAfterMs: deps.leaseMs } : {}),
      });
      if (!result.success) {
        throw new FileProcessingError(
          result.error?.message ?? 'generation failed',
          result.error?.code ?? 'INTERNAL_ERROR',
          {
            transient: result.error?.transient ?? false,
          },
        );
      }
      return {
        recordUid: uid,
        outcome: result.outcome,
        ...(result.uploadResult
          ? { storageKey: result.uploadResult.key, size: result.uploadResult.size, sha256: result.uploadResult.sha256 }
          : {}),
      };
    },
    async maintenance(item) {
      const days = num(item.payload.olderThanDays) ?? 7;
      const pruned = await new TaskQueue({ db: deps.db }).prune(days * 86_400_000);
      const reaped = await reapExpiredLeases(deps.db);
      // Objects left by crashes: reservations never recorded (older than any claim may live) and unfinished deletes.
      const graceMs = 2 * deps.settings.taskTimeoutMinutes * 60_000;
      const swept = await sweepObjects(deps.db, deps.store, { graceMs });
      const spools = await sweepSpool(deps.settings.home, graceMs);
      const tempFiles = (await deps.store.sweepTemporary?.(graceMs)) ?? 0;
      return {
        prunedTasks: pruned.tasks,
        prunedItems: pruned.items,
        ...reaped,
        sweptObjects: swept.removed,
        spools,
        tempFiles,
      };
    },
    async noop() {
      return {};
    },
    async optimization(item, ctx) {
      const uid = text(item.payload.uid);
      if (!uid) throw new FileProcessingError('the item has no uid', 'INVALID_ITEM');
      const quality = num(item.options.quality);
      const result = await optimizeRecord(uid, {
        db: deps.db,
        store: deps.store,
        settings: deps.settings,
        scope: ownerScope(item),
        // A re-run takes over its dead predecessor's claim; a first attempt never cuts short someone else's.
        staleAfterMs: item.attempts > 1 ? deps.leaseMs : deps.settings.taskTimeoutMinutes * 60_000,
        thumbnails: deps.settings.uploads.thumbnails ?? true,
        signal: ctx.signal,
        ...(quality !== undefined ? { quality } : {}),
      });
      return { ...result };
    },
  };
}
