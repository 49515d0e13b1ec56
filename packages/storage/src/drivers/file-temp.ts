/**
 * The local disk driver's temporary files: every write goes to `.<12 hex>.tmp` beside its object and is renamed into
 * place once synced. A process killed mid-write leaves that file behind; nothing else is ever named so (keys may not
 * have a segment starting with a dot, keys.ts), so the maintenance sweep can remove old ones safely.
 */
import { randomBytes } from 'node:crypto';
import { opendir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

const TEMP_NAME = /^\.[0-9a-f]{12}\.tmp$/;

/** A fresh temporary path beside `path`. */
export function tempOf(path: string): string {
  return join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Removes temporary files under `root` last modified more than `olderThanMs` ago; returns how many. The tree is walked
 * one directory at a time (memory bounded by its depth, not by the number of objects). A missing root is not an error.
 */
export async function sweepTemporaryFiles(root: string, olderThanMs: number): Promise<number> {
  const cutoff = Date.now() - olderThanMs;
  let removed = 0;
  const walk = async (dir: string): Promise<void> => {
    const entries = await opendir(dir).catch(() => undefined);
    if (!entries) return;
    for await (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile() && TEMP_NAME.test(entry.name)) {
        const info = await stat(path).catch(() => undefined);
        if (info && info.mtimeMs < cutoff) {
          await rm(path, { force: true });
          removed += 1;
        }
      }
    }
  };
  await walk(root);
  return removed;
}
