/** The housekeeping every worker does on a timer: idempotent, so no leader is needed. */
import { type Db, type Logger, pruneFinished, reapExpiredLeases } from '@mediaforge/core';

/** Deletes items of tasks finished more than `retentionMs` ago (their results are folded into the task first). */
export async function prune(db: Db, retentionMs: number, logger: Logger): Promise<void> {
  try {
    const pruned = await pruneFinished(db, new Date(Date.now() - retentionMs));
    if (pruned.items > 0) logger.info(pruned, 'pruned finished items');
  } catch (error) {
    logger.warn({ err: error }, 'pruning failed');
  }
}

/** Takes back items whose lease expired; true when any came back (there is work to claim). */
export async function reap(db: Db, logger: Logger): Promise<boolean> {
  try {
    const { requeued, failed } = await reapExpiredLeases(db);
    if (requeued + failed > 0) logger.warn({ requeued, failed }, 'took back items whose lease expired');
    return requeued > 0;
  } catch (error) {
    logger.warn({ err: error }, 'lease reaper failed');
    return false;
  }
}
