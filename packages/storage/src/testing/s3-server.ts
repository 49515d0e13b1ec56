/**
 * A real S3 protocol server on loopback for tests: `s3rver` started in-process on a free port, with its own
 * data directory. The SDK, the AWS CLI and rclone all talk to it over HTTP exactly as they would to S3.
 */
import type fs from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

/**
 * s3rver lists a bucket by walking its directory with `fs.readdirSync` and relies on Node's (libuv's) sorted
 * results to return keys in S3's lexicographic order; Bun returns directory order. Sorting the entries of s3rver's
 * own data directories (through the `fs-extra` instance s3rver itself loads) restores S3 semantics without
 * touching anything else in the process.
 */
const serverDirectories = new Set<string>();
const s3rverFs = createRequire(createRequire(import.meta.url).resolve('s3rver'))('fs-extra') as typeof fs;
const readdirSync = s3rverFs.readdirSync;
s3rverFs.readdirSync = ((path: fs.PathLike, options?: unknown) => {
  const entries = (readdirSync as (p: fs.PathLike, o?: unknown) => unknown[])(path, options);
  const inServer = [...serverDirectories].some((dir) => String(path).startsWith(dir));
  return inServer && entries.every((entry) => typeof entry === 'string') ? (entries as string[]).sort() : entries;
}) as typeof fs.readdirSync;

export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface TestS3Server {
  endpoint: string;
  bucket: string;
  /** Settings-style environment for pointing mediaforge at this server. */
  env: Record<string, string>;
  /** Its data directory (removed by `close` unless told to keep it). */
  directory: string;
  close(options?: { keepFiles?: boolean }): Promise<void>;
}

export async function startS3Server(options: { bucket?: string } = {}): Promise<TestS3Server> {
  const bucket = options.bucket ?? 'mediaforge-test';
  const directory = mkdtempSync(join(tmpdir(), 'mediaforge-s3rver-'));
  serverDirectories.add(directory);
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  const address = (await server.run()) as { address: string; port: number };
  const endpoint = `http://127.0.0.1:${address.port}`;
  return {
    endpoint,
    bucket,
    env: {
      STORAGE_URL: `s3://${bucket}`,
      S3_ENDPOINT: endpoint,
      S3_REGION: 'us-east-1',
      S3_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      S3_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      S3_FORCE_PATH_STYLE: 'true',
    },
    directory,
    async close({ keepFiles = false } = {}) {
      await server.close();
      serverDirectories.delete(directory);
      if (!keepFiles) await rm(directory, { recursive: true, force: true });
    },
  };
}
