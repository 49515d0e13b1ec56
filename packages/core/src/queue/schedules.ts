/**
 * Schedules: cron expressions in the database that enqueue `generate auto`, an ingest of a URL list, or maintenance.
 * Owner-scoped like tasks (another user's schedule behaves as missing) and bounded: SCHEDULE_MIN_INTERVAL_SECONDS,
 * SCHEDULE_MAX_PER_USER, SCHEDULE_MAX_URLS. Workers fire them (`schedule-fire.ts`).
 */
import { and, asc, desc, eq, isNull, sql } from 'drizzle-orm';
import type { Settings } from '../config/settings.ts';
import type { Database, Db } from '../db/database.ts';
import { withOwnerGates } from '../db/owner-gates.ts';
import {
  SCHEDULE_ACTIONS,
  type ScheduleAction,
  type ScheduleRow,
  type ScheduleRunRow,
  scheduleRuns,
  schedules,
} from '../db/schedule-schema.ts';
import { FileProcessingError } from '../errors.ts';
import { checkedSize, DEFAULT_FILE_SIZE_KB } from '../generate/pending.ts';
import { checkUrl } from '../ingest/guard.ts';
import { type Scope, scopeCondition, scopeUser } from '../scope.ts';
import { isUid, newUid } from '../uid.ts';
import { checkCron } from './cron.ts';

export interface ScheduleInput {
  cron: string;
  action: ScheduleAction;
  /** IANA time zone the expression is read in. Default UTC. */
  timezone?: string;
  name?: string;
  /** generate_auto: `{ limit, fileSizeKb }`; ingest: `{ urls, quality, compress, allowPrivate }`; maintenance: `{ olderThanDays }`. */
  params?: Record<string, unknown>;
}

export interface ScheduleDeps {
  database: Pick<Database, 'db'>;
  settings: Pick<Settings, 'schedules' | 'maxBatchSize' | 'allowHosts' | 'maxFileSizeBytes'>;
}

export class ScheduleNotFoundError extends FileProcessingError {
  constructor(readonly scheduleId: string) {
    super(`No schedule ${scheduleId}. List them with \`mediaforge schedules list\`.`, 'SCHEDULE_NOT_FOUND', {
      details: { scheduleId },
    });
  }
}

export class Schedules {
  constructor(private readonly deps: ScheduleDeps) {}

  /** Stores a schedule for the scope's user (no user for everyone). @throws INVALID_SCHEDULE, SCHEDULE_TOO_FREQUENT, TOO_MANY_SCHEDULES */
  async add(scope: Scope, input: ScheduleInput): Promise<ScheduleRow> {
    const { settings } = this.deps;
    const timezone = input.timezone ?? 'UTC';
    if (typeof input.cron !== 'string') throw invalid('cron must be a string.');
    // The cheap checks first: the cron walk costs milliseconds of this thread, spent only on an otherwise valid add.
    const params = this.checkParams(scope, input.action, input.params ?? {});
    const name = (input.name ?? `${input.action} ${input.cron}`).trim();
    if (name.length === 0 || name.length > 100) throw invalid('name must be 1 to 100 characters.');
    const userId = scopeUser(scope) ?? null;
    await this.checkScheduleCount(this.deps.database.db, userId);
    const nextRunAt = await checkCron({ cron: input.cron, timezone }, settings.schedules.minIntervalSeconds);
    const row = {
      id: newUid(),
      userId,
      name,
      cron: input.cron.trim(),
      timezone,
      action: input.action,
      params,
      nextRunAt,
    };
    const lock = `mediaforge-schedules:${userId ?? ''}`;
    const { db } = this.deps.database;
    return withOwnerGates(db, [lock], () =>
      db.transaction(async (tx) => {
        // Counted and inserted under the owner's lock, so concurrent adds cannot pass the limit together.
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${lock}))`);
        await this.checkScheduleCount(tx as unknown as Db, userId);
        const [inserted] = await tx.insert(schedules).values(row).returning();
        return inserted as ScheduleRow;
      }),
    );
  }

  /** The scope's schedules, oldest first. */
  list(scope: Scope, { limit = 100 }: { limit?: number } = {}): Promise<ScheduleRow[]> {
    return this.deps.database.db
      .select()
      .from(schedules)
      .where(scopeCondition(schedules.userId, scope))
      .orderBy(asc(schedules.createdAt), asc(schedules.id))
      .limit(Math.max(1, Math.min(limit, 10_000)));
  }

  /** @throws ScheduleNotFoundError (also for another user's schedule) */
  async get(id: string, scope: Scope): Promise<ScheduleRow> {
    if (!isUid(id)) throw new ScheduleNotFoundError(id);
    const [row] = await this.deps.database.db
      .select()
      .from(schedules)
      .where(and(eq(schedules.id, id), scopeCondition(schedules.userId, scope)));
    if (!row) throw new ScheduleNotFoundError(id);
    return row;
  }

  /** Deletes a schedule and its run history; tasks it queued stay. @throws ScheduleNotFoundError */
  async remove(id: string, scope: Scope): Promise<void> {
    if (!isUid(id)) throw new ScheduleNotFoundError(id);
    const gone = await this.deps.database.db
      .delete(schedules)
      .where(and(eq(schedules.id, id), scopeCondition(schedules.userId, scope)))
      .returning({ id: schedules.id });
    if (gone.length === 0) throw new ScheduleNotFoundError(id);
  }

  /** The ticks a schedule fired, newest first. @throws ScheduleNotFoundError */
  async runs(id: string, scope: Scope, { limit = 100 }: { limit?: number } = {}): Promise<ScheduleRunRow[]> {
    await this.get(id, scope);
    return this.deps.database.db
      .select()
      .from(scheduleRuns)
      .where(eq(scheduleRuns.scheduleId, id))
      .orderBy(desc(scheduleRuns.tick))
      .limit(Math.max(1, Math.min(limit, 10_000)));
  }

  /** @throws TOO_MANY_SCHEDULES when the owner has SCHEDULE_MAX_PER_USER already. */
  private async checkScheduleCount(db: Db, userId: string | null): Promise<void> {
    const [count] = await db
      .select({ n: sql<number>`count(*)::int` })
      .from(schedules)
      .where(userId === null ? isNull(schedules.userId) : eq(schedules.userId, userId));
    const limit = this.deps.settings.schedules.maxPerUser;
    if (Number(count?.n ?? 0) >= limit) {
      throw new FileProcessingError(
        `This owner already has ${limit} schedules (SCHEDULE_MAX_PER_USER); remove one first.`,
        'TOO_MANY_SCHEDULES',
        { details: { limit } },
      );
    }
  }

  private checkParams(scope: Scope, action: ScheduleAction, params: Record<string, unknown>): Record<string, unknown> {
    const { settings } = this.deps;
    if (!SCHEDULE_ACTIONS.includes(action)) {
      throw invalid(`action must be one of ${SCHEDULE_ACTIONS.join(', ')} (got ${JSON.stringify(action)}).`);
    }
    if (action === 'generate_auto') {
      const limit = integer(params.limit ?? Math.min(100, settings.maxBatchSize), 'limit', 1, settings.maxBatchSize);
      const fileSizeKb = Number(params.fileSizeKb ?? DEFAULT_FILE_SIZE_KB);
      checkedSize(fileSizeKb, settings.maxFileSizeBytes);
      return { limit, fileSizeKb };
    }
    if (action === 'maintenance') {
      if (!scope.all) throw notAllowed('maintenance schedules');
      return { olderThanDays: integer(params.olderThanDays ?? 7, 'olderThanDays', 1, 3650) };
    }
    const urls = params.urls;
    if (!Array.isArray(urls) || urls.length === 0) throw invalid('an ingest schedule needs a non-empty urls list.');
    if (urls.length > settings.schedules.maxUrls) {
      throw new FileProcessingError(
        `The schedule lists ${urls.length} URLs, over SCHEDULE_MAX_URLS (${settings.schedules.maxUrls}).`,
        'BATCH_TOO_LARGE',
        { details: { count: urls.length, limit: settings.schedules.maxUrls } },
      );
    }
    const allowPrivate = params.allowPrivate === true;
    if (allowPrivate && !scope.all) throw notAllowed('allowPrivate');
    for (const url of urls) checkUrl(String(url), { allowPrivate, allowHosts: settings.allowHosts });
    return {
      urls: urls.map(String),
      quality: integer(params.quality ?? 85, 'quality', 1, 100),
      compress: params.compress !== false,
      allowPrivate,
    };
  }
}

function integer(value: unknown, name: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw invalid(`${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(value)}).`);
  }
  return n;
}

function invalid(message: string): FileProcessingError {
  return new FileProcessingError(message, 'INVALID_SCHEDULE');
}

function notAllowed(what: string): FileProcessingError {
  return new FileProcessingError(`Only an admin may use ${what}.`, 'OPTION_NOT_ALLOWED', { details: { option: what } });
}
