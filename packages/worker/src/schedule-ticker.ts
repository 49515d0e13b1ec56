/** Every worker polls for due schedules once a second; the fire statement makes each tick run once (no leader). */
import { type Db, fireDueSchedules, type Logger, type TaskManager } from '@mediaforge/core';

export interface ScheduleTickerOptions {
  db: Db;
  manager: TaskManager;
  workerId: string;
  logger: Logger;
  /** Poll interval. Default 1 s: the shortest schedule interval an operator may allow. */
  everyMs?: number;
  /** API_MAX_ACTIVE_TASKS_PER_USER: a user's scheduled task past it is refused and recorded. */
  maxActiveTasksPerUser?: number;
  /** USER_TASK_STORAGE_MB in bytes: the same, for the bytes of input a user's tasks keep. */
  maxTaskBytesPerUser?: number;
}

/** Starts polling; returns the function that stops it. A poll still running when the next is due is not doubled. */
export function startScheduleTicker(options: ScheduleTickerOptions): () => void {
  let busy = false;
  const poll = async () => {
    if (busy) return;
    busy = true;
    try {
      const result = await fireDueSchedules(options.db, options.manager, options.workerId, {
        ...(options.maxActiveTasksPerUser !== undefined
          ? { maxActiveTasksPerUser: options.maxActiveTasksPerUser }
          : {}),
        ...(options.maxTaskBytesPerUser ? { maxTaskBytesPerUser: options.maxTaskBytesPerUser } : {}),
      });
      if (result.fired + result.errors > 0)
        options.logger.info({ workerId: options.workerId, ...result }, 'schedules fired');
    } catch (error) {
      options.logger.warn({ workerId: options.workerId, err: error }, 'firing schedules failed; retrying next poll');
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void poll(), options.everyMs ?? 1000);
  return () => clearInterval(timer);
}
