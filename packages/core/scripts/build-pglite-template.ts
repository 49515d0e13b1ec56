/**
 * Rebuilds assets/pglite-template.tgz (run `bun run db:template` after `bun run db:generate` or a PGlite upgrade):
 * a fresh PGlite data directory with every migration applied. A test fails while the template is stale.
 */
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { MIGRATIONS_FOLDER, pgliteVersion } from '../src/db/database.ts';
import {
  migrationsDigest,
  PGLITE_TEMPLATE_MANIFEST_PATH,
  PGLITE_TEMPLATE_PATH,
  type PgliteTemplateManifest,
} from '../src/db/pglite-template.ts';

const client = new PGlite();
await client.waitReady;
await migrate(drizzle({ client }) as never, { migrationsFolder: MIGRATIONS_FOLDER });
// A checkpoint first, so the copy starts without WAL to replay.
await client.exec('checkpoint');
const tarball = await client.dumpDataDir('gzip');
await client.close();
await Bun.write(PGLITE_TEMPLATE_PATH, tarball);
const manifest: PgliteTemplateManifest = { migrations: migrationsDigest(MIGRATIONS_FOLDER), pglite: pgliteVersion() };
await Bun.write(PGLITE_TEMPLATE_MANIFEST_PATH, `${JSON.stringify(manifest, null, 2)}\n`);
console.log(`wrote ${PGLITE_TEMPLATE_PATH} (${(tarball.size / 1024 / 1024).toFixed(1)} MiB)`);
