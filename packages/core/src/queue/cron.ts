/**
 * Cron expressions for schedules, through `cron-parser` (5 fields, or 6 with seconds first): parse, check the
 * minimum interval, and work out which tick to fire after a gap (the missed-tick policy).
 */
import { FileProcessingError } from '../errors.ts';

/** Loaded on first use: every command imports the core, and only schedules need the parser (and luxon). */
let loaded: typeof import('cron-parser') | undefined;
async function load(): Promise<typeof import('cron-parser')> {
  loaded ??= await import('cron-parser');
  return loaded;
}

const MAX_CRON_LENGTH = 200;
/** Ticks looked ahead when checking the minimum interval. */
const LOOKAHEAD = 60;
/**
 * How far ahead of now a schedule's ticks are looked for. cron-parser finds a tick by walking the calendar, so a
 * search costs what the calendar span it covers costs, on the caller's thread: the 60 ticks of `59 23 * 2 5#5` (the
 * fifth Friday of February, once in 28 years) spanned 1,700 years and held the API's event loop for 0.5–1.5 s per
 * request. Within this span the search costs a few milliseconds whatever the expression; a schedule must fire in it.
 */
export const CRON_HORIZON_YEARS = 5;
/** Missed ticks counted one by one after a gap; past this the count is capped. */
const MAX_COUNTED_MISSES = 10_000;

export interface CronSpec {
  cron: string;
  timezone: string;
}

/**
 * Checks the expression and time zone, and returns the first tick after `now`. The interval between ticks is checked
 * over the next 60 ticks or CRON_HORIZON_YEARS, whichever ends first. @throws INVALID_SCHEDULE, SCHEDULE_TOO_FREQUENT
 */
export async function checkCron(spec: CronSpec, minIntervalSeconds: number, now = new Date()): Promise<Date> {
  const fields = spec.cron.trim().split(/\s+/);
  if (spec.cron.length > MAX_CRON_LENGTH || fields.length < 5 || fields.length > 6) {
    throw invalid(`"${spec.cron.slice(0, 60)}" is not a cron expression: give 5 fields (or 6, seconds first).`);
  }
  try {
    new Intl.DateTimeFormat('en', { timeZone: spec.timezone });
  } catch {
    throw invalid(`Unknown time zone "${spec.timezone.slice(0, 60)}": use an IANA name such as UTC or Europe/Berlin.`);
  }
  // One parse, walked forward: each `next()` is the tick after the one before, none past the horizon.
  const walk = await parse(spec, now, { endDate: horizonFrom(now) });
  const first = nextWithin(walk);
  if (!first) {
    throw invalid(
      `"${spec.cron.slice(0, 60)}" does not fire in the next ${CRON_HORIZON_YEARS} years; a schedule must fire within that.`,
    );
  }
  let previous = first;
  for (let n = 0; n < LOOKAHEAD; n++) {
    const next = nextWithin(walk);
    if (!next) break;
    const gapMs = next.getTime() - previous.getTime();
    if (gapMs < minIntervalSeconds * 1000) {
      throw new FileProcessingError(
        `"${spec.cron}" runs every ${gapMs / 1000} s, more often than SCHEDULE_MIN_INTERVAL_SECONDS (${minIntervalSeconds} s).`,
        'SCHEDULE_TOO_FREQUENT',
        { details: { gapSeconds: gapMs / 1000, minIntervalSeconds } },
      );
    }
    previous = next;
  }
  return first;
}

/** The first tick strictly after `after`. @throws INVALID_SCHEDULE */
export async function nextTick(spec: CronSpec, after: Date): Promise<Date> {
  return (await parse(spec, after)).next().toDate();
}

/**
 * What to fire for a schedule due at `due` when a worker looks at `now`: the most recent tick that has come since
 * `due` (`tick`; none when `due` was only a check, see below), how many earlier ticks since `due` are skipped, and
 * when to look next (`next`). Every walk is bounded: backwards to `due`, forwards CRON_HORIZON_YEARS. A schedule can
 * pass the check at creation and still have a tick decades after the next (`0 0 * 2 2#5`: the fifth Tuesday of
 * February): then `next` is the horizon, a check rather than a tick, and the walk goes on from there.
 */
export async function ticksToFire(
  spec: CronSpec,
  due: Date,
  now: Date,
): Promise<{ tick: Date | undefined; skipped: number; next: Date }> {
  const latest = new Date(now.getTime() + 1);
  const tick = previousWithin(await parse(spec, latest, { startDate: new Date(due.getTime() - 1) }));
  let skipped = 0;
  if (tick && tick.getTime() > due.getTime()) {
    // From just before `due`: `due` itself is one of the ticks skipped, unless it was only a check.
    const walk = await parse(spec, new Date(due.getTime() - 1));
    while (skipped < MAX_COUNTED_MISSES && walk.next().toDate().getTime() < tick.getTime()) skipped += 1;
  }
  const horizon = horizonFrom(now);
  const next = nextWithin(await parse(spec, now, { endDate: horizon })) ?? horizon;
  return { tick, skipped, next };
}

function horizonFrom(now: Date): Date {
  const horizon = new Date(now);
  horizon.setUTCFullYear(horizon.getUTCFullYear() + CRON_HORIZON_YEARS);
  return horizon;
}

/** The walk's previous tick, or undefined before its start date. */
function previousWithin(walk: { prev(): { toDate(): Date } }): Date | undefined {
  return nextWithin({ next: () => walk.prev() });
}

async function parse(spec: CronSpec, currentDate: Date, span: { startDate?: Date; endDate?: Date } = {}) {
  const { CronExpressionParser } = await load();
  try {
    return CronExpressionParser.parse(spec.cron.trim(), { currentDate, tz: spec.timezone, ...span });
  } catch (error) {
    throw invalid(`"${spec.cron.slice(0, 60)}" is not a valid cron expression: ${(error as Error).message}.`);
  }
}

/** The walk's next tick, or undefined past its end date (`hasNext` would search twice). */
function nextWithin(walk: { next(): { toDate(): Date } }): Date | undefined {
  try {
    return walk.next().toDate();
  } catch (error) {
    if ((error as Error).message.includes('Out of the time span range')) return undefined;
    throw invalid(`This cron expression cannot be walked: ${(error as Error).message}.`);
  }
}

function invalid(message: string): FileProcessingError {
  return new FileProcessingError(message, 'INVALID_SCHEDULE');
}
