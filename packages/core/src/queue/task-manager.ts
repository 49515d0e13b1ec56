/**
 * The seed's BackgroundTaskManager, on the PostgreSQL queue: queue a batch of URLs or record generations as one
 * task whose items any worker can take, read its status, cancel it, see the workers.
 */
import { and, inArray } from 'drizzle-orm';
import type { Settings } from '../config/settings.ts';
import type { Database } from '../db/database.ts';
import type { TaskKind, TaskRow, TaskStatus } from '../db/queue-schema.ts';
import { records } from '../db/schema.ts';
import { FileProcessingError, RecordNotFoundError } from '../errors.ts';
import { checkedSize, DEFAULT_FILE_SIZE_KB, recordsWithoutFiles } from '../generate/pending.ts';
import { checkUrl, type NetworkPolicy } from '../ingest/guard.ts';
import { type IngestFilterOptions, storedIngestFilters } from '../ingest/ingest-options.ts';
import { type Scope, scopeCondition, scopeUser } from '../scope.ts';
import { newUid, parseUid } from '../uid.ts';
import { type ActiveItems, activeItems } from './active-items.ts';
import { checkIdempotencyKey, type EnqueueExtras, enqueueWithExtras, findReplay, requestHash } from './idempotency.ts';
import type { ItemListOptions, TaskItemPage } from './item-pages.ts';
import { type EnqueueOptions, type TaskListOptions, TaskNotFoundError, TaskQueue } from './queue.ts';
import { checkQueueFor } from './task-limits.ts';
import { checkWebhook, type WebhookSpec } from './webhooks/task-webhook.ts';
import { listWorkers, type WorkerInfo } from './workers.ts';

export interface FileProcessingOptions extends IngestFilterOptions {
  /** The seed's option: items of this task running at once across all workers (same as `QueueCommon.maxConcurrent`). */
  maxConcurrent?: number;
  /** JPEG/WebP/AVIF quality for image recompression. Default 85. */
  quality?: number;
  /** Recompress images. Default true. */
  compress?: boolean;
  /** Per-file size cap in bytes; defaults to the worker's MAX_FILE_SIZE_MB. */
  maxSize?: number;
  /** Let downloads reach private and loopback addresses (trusted operators only). */
  allowPrivate?: boolean;
}

export interface QueueCommon {
  queue?: string;
  priority?: number;
  maxAttempts?: number;
  /** Per-task time limits, overriding the workers' TASK_SOFT_TIMEOUT_MINUTES and TASK_TIMEOUT_MINUTES. */
  softTimeoutMs?: number;
  timeoutMs?: number;
  /** Items of this task running at once across all workers. */
  maxConcurrent?: number;
  /** Refuse when the scope's user already has this many queued or running tasks (atomic across processes). */
  maxActiveTasksForUser?: number;
  /** Refuse when the scope's user's tasks would keep more bytes of input than this (USER_TASK_STORAGE_MB). */
  maxTaskBytesForUser?: number;
  /** POST signed events here when the task (and, if asked, each item) finishes. */
  webhook?: WebhookSpec;
  /** The same key and request within 24 h return the first task; a different request is refused. */
  idempotencyKey?: string;
}

export interface QueueFileProcessingInput extends QueueCommon {
  urls: readonly string[];
  /** Who the task and its records belong to (everyone: no owner). */
  scope: Scope;
  generationId?: string | null;
  options?: FileProcessingOptions;
}

export interface QueueRecordGenerationInput extends QueueCommon {
  /** Records to generate files for; or `auto` to take up to `limit` records without files. */
  uids?: readonly string[];
  auto?: { limit?: number };
  fileSizeKb?: number;
  force?: boolean;
  /** Whose records may be generated; a uid outside it is reported missing. The task belongs to its user. */
  scope: Scope;
}

export interface TaskStatusView {
  taskId: string;
  kind: TaskKind;
  status: TaskStatus;
  /** True once the task is finished, whatever the outcome. */
  ready: boolean;
  /** True when every item succeeded. */
  successful: boolean;
  progress: { completed: number; succeeded: number; failed: number; cancelled: number; total: number; percent: number };
  result: {
    successfulFiles: number;
    totalFiles: number;
    /** Seconds from the first claim to the end (or to now while running). */
    processingTime: number;
    /** The records the task made; only in one task's status (getTaskStatus), never in lists. */
    processedFileIds?: string[];
  } | null;
  error: { code: string; message: string } | null;
  userId: string | null;
  generationId: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface WorkerStats {
  /** Each worker with `activeItems`: the items it holds running now, counted from the items themselves. */
  workers: (WorkerInfo & { activeItems: number })[];
  activeTasks: number;
  /** Running items per worker and per task. */
  activeItems: ActiveItems;
}

export interface TaskManagerDeps {
  database: Pick<Database, 'db'>;
  settings: Pick<
    Settings,
    'maxBatchSize' | 'allowHosts' | 'maxFileSizeBytes' | 'taskTimeoutMinutes' | 'ingestHeadersKey'
  >;
}

/** Heartbeats older than this mark a worker offline in `getWorkerStats`. */
export const WORKER_OFFLINE_AFTER_MS = 30_000;

export class TaskManager {
  readonly queue: TaskQueue;

  constructor(private readonly deps: TaskManagerDeps) {
    this.queue = new TaskQueue(deps.database);
  }

  /** Queues URLs to download, verify and store; returns the task id at once. */
  async queueFileProcessing(input: QueueFileProcessingInput, enqueue: EnqueueOptions = {}): Promise<string> {
    const { urls, options = {} } = input;
    this.checkBatch(urls.length, 'URLs');
    const policy: NetworkPolicy = {
      allowPrivate: options.allowPrivate ?? false,
      allowHosts: this.deps.settings.allowHosts,
    };
    urls.forEach((url, index) => {
      try {
        checkUrl(url, policy);
      } catch (error) {
        if (error instanceof FileProcessingError) {
          throw new FileProcessingError(`URL ${index + 1} of ${urls.length}: ${error.message}`, error.code, {
            details: { ...error.details, index },
          });
        }
        throw error;
      }
    });
    if (
      options.quality !== undefined &&
      !(Number.isInteger(options.quality) && options.quality >= 1 && options.quality <= 100)
    ) {
      throw new FileProcessingError(
        `quality must be an integer from 1 to 100 (got ${options.quality}).`,
        'INVALID_TASK',
      );
    }
    return enqueueWithExtras(this.deps.database.db, this.extras('ingest', input), enqueue.tx, (tx, marks) =>
      this.queue.enqueue(
        {
          ...marks,
          kind: 'ingest',
          // Each item carries the uid its record will have, so a re-run after a crash finds its own record.
          payloads: urls.map((url) => ({ url, uid: newUid() })),
          userId: scopeUser(input.scope) ?? null,
          generationId: input.generationId ?? null,
          // Filters checked now; request headers sealed (never stored in plain text).
          options: { ...omitFilters(options), ...storedIngestFilters(options, this.deps.settings.ingestHeadersKey) },
          ...queueCommonSpec('ingest', { ...input, maxConcurrent: input.maxConcurrent ?? options.maxConcurrent }),
        },
        { tx },
      ),
    );
  }

  /** Queues file generation for records (by uid, or `auto` for records without files). */
  async queueRecordGeneration(input: QueueRecordGenerationInput, enqueue: EnqueueOptions = {}): Promise<string> {
    const extras = this.extras('generate', input);
    // A repeated key answers before the records are looked up again (an `auto` batch may have none left to take).
    const replayed = await findReplay(enqueue.tx ?? this.deps.database.db, extras);
    if (replayed) return replayed;
    const fileSizeKb = input.fileSizeKb ?? DEFAULT_FILE_SIZE_KB;
    checkedSize(fileSizeKb, this.deps.settings.maxFileSizeBytes);
    let uids: string[];
    if (input.uids) {
      uids = [...new Set(input.uids.map((uid) => parseUid(uid)))];
      this.checkBatch(uids.length, 'records');
      const db = enqueue.tx ?? this.deps.database.db;
      const found = new Set<string>();
      for (let offset = 0; offset < uids.length; offset += 5000) {
        const chunk = uids.slice(offset, offset + 5000);
        const rows = await (db as typeof this.deps.database.db)
          .select({ uid: records.uid })
          .from(records)
          .where(and(inArray(records.uid, chunk), scopeCondition(records.userId, input.scope)));
        for (const row of rows) found.add(row.uid);
      }
      const missing = uids.filter((uid) => !found.has(uid));
      if (missing.length > 0) {
        const error = new RecordNotFoundError(missing[0] as string);
        error.details.missing = missing.slice(0, 20);
        error.details.missingCount = missing.length;
        throw error;
      }
    } else if (input.auto) {
      const limit = Math.max(1, Math.min(input.auto.limit ?? 100, this.deps.settings.maxBatchSize));
      const staleAfterMs = this.deps.settings.taskTimeoutMinutes * 60_000;
      const waiting = await recordsWithoutFiles(this.deps.database.db, input.scope, staleAfterMs, limit);
      uids = waiting.map((record) => record.uid);
      if (uids.length === 0) throw new FileProcessingError('No records are waiting for a file.', 'NOTHING_TO_DO');
    } else {
      throw new FileProcessingError('Give uids or auto.', 'INVALID_TASK');
    }
    return enqueueWithExtras(this.deps.database.db, extras, enqueue.tx, (tx, marks) =>
      this.queue.enqueue(
        {
          ...marks,
          kind: 'generate',
          payloads: uids.map((uid) => ({ uid })),
          userId: scopeUser(input.scope) ?? null,
          options: { fileSizeKb, force: input.force ?? false },
          ...queueCommonSpec('generate', input),
        },
        { tx },
      ),
    );
  }

  /** Queues a prune of items finished more than `olderThanDays` ago. */
  queueMaintenance({ olderThanDays = 7 }: { olderThanDays?: number } = {}, enqueue: EnqueueOptions = {}) {
    return this.queue.enqueue(
      { kind: 'maintenance', payloads: [{ action: 'prune', olderThanDays }], maxAttempts: 1 },
      enqueue,
    );
  }

  /** The seed's status shape. Throws `TaskNotFoundError` for an unknown task or one outside the scope. */
  async getTaskStatus(taskId: string, scope: Scope): Promise<TaskStatusView> {
    return this.statusOf(await this.getTask(taskId, scope));
  }

  /** The task row in the scope. @throws TaskNotFoundError (also for another user's task) */
  async getTask(taskId: string, scope: Scope): Promise<TaskRow> {
    const userId = scopeUser(scope);
    const task = await this.queue.getTask(taskId, userId === undefined ? {} : { userId });
    if (!task) throw new TaskNotFoundError(taskId);
    return task;
  }

  /** Tasks in the scope, newest first (`options.userId` narrows an all-users scope). */
  listTasks(scope: Scope, options: Omit<TaskListOptions, 'userId'> & { userId?: string } = {}) {
    const userId = scopeUser(scope) ?? options.userId;
    return this.queue.listTasks({ ...options, ...(userId === undefined ? {} : { userId }) });
  }

  /** A page of a task's items in seq order (item-pages.ts). @throws TaskNotFoundError for a task outside the scope */
  async listItems(taskId: string, scope: Scope, options: ItemListOptions = {}): Promise<TaskItemPage> {
    await this.getTask(taskId, scope);
    return this.queue.listItems(taskId, options);
  }

  /** Tasks in the scope not yet finished. */
  activeTaskCount(scope: Scope): Promise<number> {
    return this.queue.activeTaskCount(scopeUser(scope));
  }

  /** The status view of a task row (the list views reuse it without a second read of the task). */
  async statusOf(task: TaskRow, { withFileIds = true } = {}): Promise<TaskStatusView> {
    const ready = ['succeeded', 'failed', 'cancelled'].includes(task.status);
    const completed = task.succeeded + task.failed + task.cancelled;
    const end = task.finishedAt ?? new Date();
    return {
      taskId: task.id,
      kind: task.kind,
      status: task.status,
      ready,
      successful: task.status === 'succeeded',
      progress: {
        completed,
        succeeded: task.succeeded,
        failed: task.failed,
        cancelled: task.cancelled,
        total: task.total,
        percent: task.total === 0 ? 100 : Math.floor((completed / task.total) * 1000) / 10,
      },
      result: ready
        ? {
            successfulFiles: task.succeeded,
            totalFiles: task.total,
            processingTime: task.startedAt ? (end.getTime() - task.startedAt.getTime()) / 1000 : 0,
            ...(withFileIds ? { processedFileIds: await this.queue.processedRecordUids(task) } : {}),
          }
        : null,
      error: task.errorCode ? { code: task.errorCode, message: task.errorMessage ?? task.errorCode } : null,
      userId: task.userId,
      generationId: task.generationId,
      createdAt: task.createdAt,
      startedAt: task.startedAt,
      finishedAt: task.finishedAt,
    };
  }

  /** True when the task (in the scope) was queued or running and is now cancelled. */
  cancelTask(taskId: string, scope: Scope): Promise<boolean> {
    const userId = scopeUser(scope);
    return this.queue.cancel(taskId, userId === undefined ? {} : { userId });
  }

  async getWorkerStats(): Promise<WorkerStats> {
    const [workers, activeTasks, active] = await Promise.all([
      listWorkers(this.deps.database.db, WORKER_OFFLINE_AFTER_MS),
      this.queue.activeTaskCount(),
      activeItems(this.deps.database.db),
    ]);
    return {
      workers: workers.map((worker) => ({ ...worker, activeItems: active.byWorker[worker.id] ?? 0 })),
      activeTasks,
      activeItems: active,
    };
  }

  /** The task's webhook and idempotency key, checked; the key's hash covers the whole request but the secret. */
  private extras(kind: TaskKind, input: QueueCommon & { scope: Scope }): EnqueueExtras {
    if (input.webhook) checkWebhook(input.webhook, this.deps.settings.allowHosts, input.scope);
    const key = input.idempotencyKey === undefined ? undefined : checkIdempotencyKey(input.idempotencyKey);
    const { scope: _, idempotencyKey: __, webhook, ...request } = input;
    return {
      owner: scopeUser(input.scope) ?? null,
      ...(webhook ? { webhook } : {}),
      ...(key === undefined
        ? {}
        : {
            idempotencyKey: key,
            hash: requestHash(
              { kind, ...request, webhook: { ...webhook, secret: undefined } },
              this.deps.settings.ingestHeadersKey,
            ),
          }),
    };
  }

  private checkBatch(count: number, what: string): void {
    if (count === 0) throw new FileProcessingError(`The task has no ${what}.`, 'INVALID_TASK');
    if (count > this.deps.settings.maxBatchSize) {
      throw new FileProcessingError(
        `The task has ${count} ${what}, over MAX_BATCH_SIZE (${this.deps.settings.maxBatchSize}); split it.`,
        'BATCH_TOO_LARGE',
        { details: { count, limit: this.deps.settings.maxBatchSize } },
      );
    }
  }
}

/**
 * The enqueue fields every kind shares (routing, attempts, limits), from a queue call's input.
 * @throws OPTION_NOT_ALLOWED for a user's task on another kind's queue
 */
export function queueCommonSpec(kind: TaskKind, input: QueueCommon & { scope: Scope }) {
  checkQueueFor(kind, input.queue, input.scope);
  const limits = {
    ...(input.softTimeoutMs !== undefined ? { softTimeoutMs: input.softTimeoutMs } : {}),
    ...(input.timeoutMs !== undefined ? { timeoutMs: input.timeoutMs } : {}),
    ...(input.maxConcurrent !== undefined ? { maxConcurrent: input.maxConcurrent } : {}),
  };
  return {
    limits,
    ...(input.queue ? { queue: input.queue } : {}),
    ...(input.priority !== undefined ? { priority: input.priority } : {}),
    ...(input.maxAttempts !== undefined ? { maxAttempts: input.maxAttempts } : {}),
    ...(input.maxActiveTasksForUser !== undefined ? { maxActiveTasksForUser: input.maxActiveTasksForUser } : {}),
    ...(input.maxTaskBytesForUser !== undefined ? { maxTaskBytesForUser: input.maxTaskBytesForUser } : {}),
  };
}

function omitFilters({ allowedTypes: _a, headers: _h, ...rest }: FileProcessingOptions) {
  return rest;
}
