/**
 * Ingest memory: a 1 GiB file (a valid WAV) downloaded from a loopback origin through the whole pipeline —
 * download, detect, spool and hash, validate, store on local disk, record in PostgreSQL — keeps the ingesting
 * process under 150 MiB peak RSS. The origin runs in this process, the pipeline in a child.
 */
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestPostgres } from '@mediaforge/core/testing';
import { patternStream } from '@mediaforge/storage/testing/pattern';
import { type Benchmark, runChild } from './lib.ts';

const LIMIT_BYTES = 150 * 1024 * 1024;

/** A mono 16-bit 44.1 kHz WAV of `dataBytes` of PCM, streamed. */
function wavStream(dataBytes: number): ReadableStream<Uint8Array> {
  const header = new DataView(new ArrayBuffer(44));
  const ascii = (offset: number, text: string) => {
    for (let i = 0; i < text.length; i++) header.setUint8(offset + i, text.charCodeAt(i));
  };
  ascii(0, 'RIFF');
  header.setUint32(4, 36 + dataBytes, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  header.setUint32(16, 16, true);
  header.setUint16(20, 1, true);
  header.setUint16(22, 1, true);
  header.setUint32(24, 44_100, true);
  header.setUint32(28, 88_200, true);
  header.setUint16(32, 2, true);
  header.setUint16(34, 16, true);
  ascii(36, 'data');
  header.setUint32(40, dataBytes, true);
  const body = patternStream(dataBytes, 256 * 1024).getReader();
  let sentHeader = false;
  return new ReadableStream({
    async pull(controller) {
      if (!sentHeader) {
        sentHeader = true;
        controller.enqueue(new Uint8Array(header.buffer));
        return;
      }
      const { done, value } = await body.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
  });
}

interface ChildResult {
  bytes: number;
  seconds: number;
  peakRssBytes: number;
  baselineRssBytes: number;
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
    const home = mkdtempSync(join(tmpdir(), 'mediaforge-bench-ingest-'));
    try {
      const result = await runChild<ChildResult>('ingest-memory.child.ts', [
        `http://127.0.0.1:${origin.port}/big.wav`,
        database.url,
        home,
      ]);
      const mib = (n: number) => (n / 1024 / 1024).toFixed(1);
      const pass = result.peakRssBytes < LIMIT_BYTES && result.bytes === dataBytes + 44;
      return {
        results: result,
        pass,
        table: [
          ['pipeline', 'bytes', 'seconds', 'MB/s', 'baseline RSS (MiB)', 'peak RSS (MiB)', 'under 150 MiB'],
          [
            'URL → local disk + PostgreSQL',
            String(result.bytes),
            result.seconds.toFixed(2),
            (result.bytes / 1e6 / result.seconds).toFixed(1),
            mib(result.baselineRssBytes),
            mib(result.peakRssBytes),
            result.peakRssBytes < LIMIT_BYTES ? 'yes' : 'NO',
          ],
        ],
      };
    } finally {
      origin.stop(true);
      await database.drop();
      await rm(home, { recursive: true, force: true });
    }
  },
};
