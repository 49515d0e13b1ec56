/** The object keys of the local-disk driver's root, for `list`: every regular file but sidecars and temp files. */
import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/** Every object key under `dir`, skipping sidecars and temp files (dot-files). */
export async function walk(dir: string, root = dir): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const keys: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) keys.push(...(await walk(path, root)));
    else if (entry.isFile()) keys.push(relative(root, path).split(sep).join('/'));
  }
  return keys;
}
