/** Packs the workspace packages with `bun pm pack` and installs the tarballs into directories outside the repository. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runBun } from '../support/cli.ts';

const ROOT = join(import.meta.dir, '../..');

export const PACKAGES = [
  '@mediaforge/core',
  '@mediaforge/storage',
  '@mediaforge/api',
  '@mediaforge/worker',
  '@mediaforge/cli',
] as const;
export type PackageName = (typeof PACKAGES)[number];

export interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  license?: string;
  exports?: Record<string, string>;
  bin?: Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

export interface Packed {
  tarball: string;
  /** The package.json inside the tarball (as `bun pm pack` rewrote it). */
  manifest: Manifest;
  /** Paths inside the tarball, relative to its `package/` folder. */
  files: string[];
}

async function tar(args: string[]): Promise<string> {
  const child = Bun.spawn(['tar', ...args], { stdout: 'pipe', stderr: 'pipe' });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  if (code !== 0) throw new Error(`tar ${args.join(' ')} failed: ${stderr}`);
  return stdout;
}

/** Packs every package into `dir` and reads back what each tarball holds. */
export async function packAll(dir: string): Promise<Record<PackageName, Packed>> {
  const packed = {} as Record<PackageName, Packed>;
  for (const name of PACKAGES) {
    const folder = join(ROOT, 'packages', name.replace('@mediaforge/', ''));
    const result = await runBun(['pm', 'pack', '--destination', dir, '--quiet'], folder);
    if (result.code !== 0) throw new Error(`bun pm pack failed in ${folder}: ${result.stderr}`);
    const tarball = result.stdout.trim().split('\n').pop()?.trim() ?? '';
    const path = tarball.startsWith('/') ? tarball : join(dir, tarball);
    const files = (await tar(['-tzf', path]))
      .split('\n')
      .filter(Boolean)
      .map((file) => file.replace(/^package\//, ''));
    const unpacked = join(dir, `${name.replace('@mediaforge/', '')}-unpacked`);
    mkdirSync(unpacked);
    await tar(['-xzf', path, '-C', unpacked, 'package/package.json']);
    const manifest = JSON.parse(readFileSync(join(unpacked, 'package/package.json'), 'utf8')) as Manifest;
    packed[name] = { tarball: path, manifest, files };
  }
  return packed;
}

/**
 * Installs `direct` (and `indirect`, which they depend on) from their tarballs into the empty directory `dir`.
 * The packages depend on each other by version, which the registry does not have yet: overrides point every one of
 * them at its tarball. Everything else comes from the npm registry (or bun's global cache).
 */
export async function installTarballs(
  dir: string,
  packed: Record<string, Packed>,
  direct: readonly PackageName[],
  indirect: readonly PackageName[] = [],
): Promise<void> {
  const source = (name: PackageName) => `file:${(packed[name] as Packed).tarball}`;
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({
      name: 'mediaforge-install-test',
      private: true,
      dependencies: Object.fromEntries(direct.map((name) => [name, source(name)])),
      overrides: Object.fromEntries([...direct, ...indirect].map((name) => [name, source(name)])),
    }),
  );
  const install = await runBun(['install'], dir);
  if (install.code !== 0) throw new Error(`bun install failed in ${dir}:\n${install.stdout}\n${install.stderr}`);
}
