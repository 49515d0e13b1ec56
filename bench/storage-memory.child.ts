/**
 * Child process of the storage-memory benchmark: streams `bytes` of generated data through one driver's `put` and
 * prints `{ driver, bytes, seconds, peakRssBytes, baselineRssBytes }` as JSON. Runs alone so RSS is the driver's.
 * Usage: bun bench/storage-memory.child.ts <file|s3> <bytes> <target> (target: a directory, or an S3 endpoint URL).
 */
import { createFileStore, createS3Store, type ObjectStore } from '@mediaforge/storage';
import { patternStream } from '@mediaforge/storage/testing/pattern';
import { rssSampler } from './lib.ts';

const [driver = 'file', bytesArg = '0', target = ''] = process.argv.slice(2);
const bytes = Number(bytesArg);
const store: ObjectStore =
  driver === 's3'
    ? createS3Store({ bucket: 'bench', endpoint: target, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' })
    : createFileStore({ root: target });

const sampler = rssSampler();
const started = performance.now();
const result = await store.put('bench/big.bin', patternStream(bytes, 256 * 1024), {
  contentType: 'application/octet-stream',
});
const seconds = (performance.now() - started) / 1000;
const peakRssBytes = sampler.stop();
if (result.size !== bytes) throw new Error(`stored ${result.size} bytes, expected ${bytes}`);
console.log(JSON.stringify({ driver, bytes, seconds, peakRssBytes, baselineRssBytes: sampler.baseline }));
