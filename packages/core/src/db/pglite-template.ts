/**
 * The embedded database's starting point: a data directory already initialised and migrated, shipped as a tarball,
 * so a first run unpacks ~40 MB instead of running initdb and the migrations in WebAssembly (over 1 GiB peak RSS).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PGLITE_TEMPLATE_PATH = fileURLToPath(new URL('../../assets/pglite-template.tgz', import.meta.url));
/** What the tarball was built from; a template from other migrations or another PGlite is not used. */
export const PGLITE_TEMPLATE_MANIFEST_PATH = fileURLToPath(
  new URL('../../assets/pglite-template.json', import.meta.url),
);

export interface PgliteTemplateManifest {
  /** sha256 of the migration journal and every migration's SQL, as `migrationsDigest` computes it. */
  migrations: string;
  /** The @electric-sql/pglite version that wrote it (its PostgreSQL major decides whether it opens). */
  pglite: string;
}

/** A digest of the migrations folder: changes whenever a migration is added or edited. */
export function migrationsDigest(migrationsFolder: string): string {
  const hash = createHash('sha256');
  const journal = readFileSync(join(migrationsFolder, 'meta/_journal.json'), 'utf8');
  hash.update(journal);
  for (const { tag } of (JSON.parse(journal) as { entries: { tag: string }[] }).entries) {
    hash.update(readFileSync(join(migrationsFolder, `${tag}.sql`)));
  }
  return hash.digest('hex');
}

export function readTemplateManifest(): PgliteTemplateManifest | undefined {
  if (!existsSync(PGLITE_TEMPLATE_PATH) || !existsSync(PGLITE_TEMPLATE_MANIFEST_PATH)) return undefined;
  return JSON.parse(readFileSync(PGLITE_TEMPLATE_MANIFEST_PATH, 'utf8')) as PgliteTemplateManifest;
}

/**
 * Fills an empty or missing `dataDir` from the template when the template was written by `pgliteVersion`; returns
 * whether it did. The caller holds the data directory's lock. The files are unpacked beside it and renamed into
 * place, so a run killed half-way leaves no half data directory behind. Migrations added since the template was
 * built are applied by the usual `migrate()` afterwards.
 */
export async function seedFromTemplate(dataDir: string, pgliteVersion: string): Promise<boolean> {
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) return false;
  if (readTemplateManifest()?.pglite !== pgliteVersion) return false;
  const staging = `${dataDir}.seeding-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  try {
    await new Bun.Archive(await Bun.file(PGLITE_TEMPLATE_PATH).bytes()).extract(staging);
    if (existsSync(dataDir)) rmdirSync(dataDir);
    renameSync(staging, dataDir);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return true;
}
