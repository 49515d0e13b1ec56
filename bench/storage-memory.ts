/**
 * Storage memory: a 1 GiB stream of unknown length put through the file and S3 drivers keeps the process's peak
 * RSS under 150 MiB. Each put runs in its own child process; the S3 server (s3rver) runs in this process so its
 * memory is not counted against the driver.
 */
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startS3Server } from '@mediaforge/storage/testing';
import { type Benchmark, type MemoryResult, runChild } from './lib.ts';

const LIMIT_BYTES = 150 * 1024 * 1024;

interface ChildResult extends MemoryResult {
  driver: string;
}

export const storageMemory: Benchmark = {
  name: 'storage-memory',
  title: 'Storage: peak RSS putting a 1 GiB stream',
  async run({ smoke }) {
    const bytes = smoke ? 16 * 1024 * 1024 : 1024 * 1024 * 1024;
    const dir = mkdtempSync(join(tmpdir(), 'mediaforge-bench-storage-'));
    const s3 = await startS3Server({ bucket: 'bench' });
    try {
      const results = [
        await runChild<ChildResult>('storage-memory.child.ts', ['file', String(bytes), dir]),
        await runChild<ChildResult>('storage-memory.child.ts', ['s3', String(bytes), s3.endpoint]),
      ];
      const mib = (n: number) => (n / 1024 / 1024).toFixed(1);
      return {
        results,
        pass: results.every((r) => r.peakRssBytes < LIMIT_BYTES),
        table: [
          ['driver', 'bytes', 'seconds', 'MB/s', 'baseline RSS (MiB)', 'peak RSS (MiB)', 'under 150 MiB'],
          ...results.map((r) => [
            r.driver,
            String(r.bytes),
            r.seconds.toFixed(2),
            (r.bytes / 1e6 / r.seconds).toFixed(1),
            mib(r.baselineRssBytes),
            mib(r.peakRssBytes),
            r.peakRssBytes < LIMIT_BYTES ? 'yes' : 'NO',
          ]),
        ],
      };
    } finally {
      await s3.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
};
