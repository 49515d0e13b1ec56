/**
 * Child process of the ingest-memory benchmark: ingests one URL into the local-disk or S3 store with the records in
 * PostgreSQL, and prints `{ bytes, seconds, peakRssBytes, baselineRssBytes }` as JSON.
 * Usage: bun bench/ingest-memory.child.ts <url> <database-url> <home> [s3-endpoint]
 */
import { join } from 'node:path';
import { openDatabase, processUrl } from '@mediaforge/core';
import { createFileStore, createS3Store } from '@mediaforge/storage';
import { rssSampler } from './lib.ts';

const [url = '', databaseUrl = '', home = '', s3Endpoint] = process.argv.slice(2);
const database = await openDatabase({ url: databaseUrl });
await database.migrate();
const store = s3Endpoint
  ? createS3Store({ bucket: 'bench', endpoint: s3Endpoint, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' })
  : createFileStore({ root: join(home, 'objects') });
const sampler = rssSampler();
const started = performance.now();
const file = await processUrl(url, {
  db: database.db,
  store,
  settings: { maxFileSizeBytes: 2 * 1024 ** 3, maxBatchSize: 1, home },
  policy: { allowPrivate: true },
});
const seconds = (performance.now() - started) / 1000;
const peakRssBytes = sampler.stop();
await database.close();
console.log(JSON.stringify({ bytes: file.size, seconds, peakRssBytes, baselineRssBytes: sampler.baseline }));
