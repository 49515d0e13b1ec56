/** Spool files left by a process killed mid-file (`<home>/tmp/spool-*`): removed once older than any claim may live. */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Removes spool files older than `olderThanMs`; returns how many. A missing spool folder is not an error. */
export async function sweepSpool(home: string, olderThanMs: number): Promise<number> {
  const dir = join(home, 'tmp');
  const names = await readdir(dir).catch(() => [] as string[]);
  const cutoff = Date.now() - olderThanMs;
  let removed = 0;
  for (const name of names.filter((n) => n.startsWith('spool-'))) {
    const path = join(dir, name);
    const info = await stat(path).catch(() => undefined);
    if (info && info.mtimeMs < cutoff) {
      await rm(path, { force: true });
      removed += 1;
    }
  }
  return removed;
}
