/**
 * Ingest memory: a 1 GiB file (a valid WAV) downloaded from a loopback origin through the whole pipeline —
 * download, detect, spool and hash, validate, store on local disk or S3, record in PostgreSQL — keeps the ingesting
 * process under 150 MiB peak RSS. The origin and the S3 server (s3rver) run in this process, the pipeline in a child.
 */
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestPostgres } from '@mediaforge/core/testing';
import { startS3Server } from '@mediaforge/storage/testing';
import { patternStream } from '@mediaforge/storage/testing/pattern';
import { type Benchmark, type MemoryResult, runChild, wavHeader } from './lib.ts';

const LIMIT_BYTES = 150 * 1024 * 1024;

/** A mono 16-bit 44.1 kHz WAV of `dataBytes` of PCM, streamed. */
export function wavStream(dataBytes: number): ReadableStream<Uint8Array> {
  const header = wavHeader(dataBytes, 1);
  const body = patternStream(dataBytes, 256 * 1024).getReader();
  let sentHeader = false;
  return new ReadableStream({
    async pull(controller) {
      if (!sentHeader) {
        sentHeader = true;
        controller.enqueue(header);
        return;
      }
      const { done, value } = await body.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
  });
}

export const ingestMemory: Benchmark = {
  name: 'ingest-memory',
  title: 'Ingest: peak RSS ingesting a 1 GiB file',
  async run({ smoke }) {
    const dataBytes = smoke ? 16 * 1024 * 1024 : 1024 * 1024 * 1024;
    const origin = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: () => new Response(wavStream(dataBytes), { headers: { 'content-length': String(dataBytes + 44) } }),
    });
    const database = await createTestPostgres();
    const s3 = await startS3Server({ bucket: 'bench' });
    const home = mkdtempSync(join(tmpdir(), 'mediaforge-bench-ingest-'));
    const url = `http://127.0.0.1:${origin.port}/big.wav`;
    try {
      const rows: [string, MemoryResult][] = [
        [
          'URL → local disk + PostgreSQL',
          await runChild<MemoryResult>('ingest-memory.child.ts', [url, database.url, home]),
        ],
        [
          'URL → S3 + PostgreSQL',
          await runChild<MemoryResult>('ingest-memory.child.ts', [url, database.url, home, s3.endpoint]),
        ],
      ];
      const mib = (n: number) => (n / 1024 / 1024).toFixed(1);
      const ok = (r: MemoryResult) => r.peakRssBytes < LIMIT_BYTES && r.bytes === dataBytes + 44;
      return {
        results: Object.fromEntries(rows),
        pass: rows.every(([, r]) => ok(r)),
        table: [
          ['pipeline', 'bytes', 'seconds', 'MB/s', 'baseline RSS (MiB)', 'peak RSS (MiB)', 'under 150 MiB'],
          ...rows.map(([name, r]) => [
            name,
            String(r.bytes),
            r.seconds.toFixed(2),
            (r.bytes / 1e6 / r.seconds).toFixed(1),
            mib(r.baselineRssBytes),
            mib(r.peakRssBytes),
            ok(r) ? 'yes' : 'NO',
          ]),
        ],
      };
    } finally {
      origin.stop(true);
      await s3.close();
      await database.drop();
      await rm(home, { recursive: true, force: true });
    }
  },
};
