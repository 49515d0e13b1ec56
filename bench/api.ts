/**
 * API: `GET /v1/records/{uid}` and `/health` requests/s at 32 connections (wrk), and streamed uploads of a 1 GiB WAV
 * (curl), each against `mediaforge serve` (authenticated, rate-limited, validated, PostgreSQL) and its anchors: a bare
 * Bun.serve answering the same row with one prepared postgres.js query (reads: target ≥ 0.8×), a bare Bun.serve
 * answering from memory (`/health`: target ≥ 0.7×; uploads), plus the server's peak RSS over the uploads (< 150 MiB).
 */
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestPostgres } from '@mediaforge/core/testing';
import {
  type Benchmark,
  collect,
  cpuCeiling,
  fixed,
  median,
  processCpuSeconds,
  recyclePageCache,
  sh,
  sha256BytesPerSecond,
  toolVersion,
  wavHeader,
} from './lib.ts';

const CLI = join(import.meta.dir, '../packages/cli/src/main.ts');
const MiB = 1024 * 1024;
const LIMIT_MIB = 150;
const CONNECTIONS = 32;
const READ_TARGET = 0.8;
const HEALTH_TARGET = 0.7;

const memory = (pid: number, field: 'VmHWM' | 'VmRSS') =>
  Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

/** Reads a child's stdout/stderr until `pattern` appears; returns the first capture group. */
async function waitFor(stream: ReadableStream<Uint8Array>, pattern: RegExp): Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`server exited before it was ready: ${text.slice(-1000)}`);
    text += decoder.decode(value, { stream: true });
    const match = pattern.exec(text);
    if (match) {
      reader.releaseLock();
      return match[1] as string;
    }
  }
}

/** A 2-channel 16-bit WAV of random PCM; `stamp` rewrites its first samples so each upload has new content. */
async function writeWav(path: string, bytes: number): Promise<(n: number) => void> {
  const writer = Bun.file(path).writer();
  writer.write(wavHeader(bytes - 44));
  const block = crypto.getRandomValues(new Uint8Array(MiB));
  for (let offset = 44; offset < bytes; offset += MiB) writer.write(block.subarray(0, Math.min(MiB, bytes - offset)));
  await writer.end();
  return (n) => {
    const fd = openSync(path, 'r+');
    writeSync(fd, new Uint8Array(new Uint32Array([n, Date.now() & 0xffffffff]).buffer), 0, 8, 44);
    closeSync(fd);
  };
}

async function wrk(url: string, key: string, seconds: number): Promise<number> {
  const out = await sh(['wrk', '-t2', `-c${CONNECTIONS}`, `-d${seconds}s`, '-H', `Authorization: Bearer ${key}`, url]);
  if (/Non-2xx or 3xx responses/.test(out)) throw new Error(`wrk saw errors:\n${out}`);
  return Number(/Requests\/sec:\s+([0-9.]+)/.exec(out)?.[1] ?? 0);
}

interface Upload {
  seconds: number;
  /** CPU (user + system) of curl, and of the server while it took the body. */
  curlCpu: number;
  serverCpu: number;
}

async function curlUpload(url: string, key: string, path: string, serverPid?: number): Promise<Upload> {
  // Every server writes the body into the same freshly recycled memory (see recyclePageCache).
  recyclePageCache(`${path}.recycle`, Bun.file(path).size + 64 * 1024 * 1024);
  const serverBefore = processCpuSeconds(serverPid);
  const started = performance.now();
  const { out, err, code } = await collect([
    '/usr/bin/time',
    '-f',
    'cpu %U %S',
    'curl',
    '--silent',
    '--output',
    '/dev/null',
    '--write-out',
    '%{http_code}',
    '-X',
    'POST',
    '-T',
    path,
    '-H',
    `Authorization: Bearer ${key}`,
    '-H',
    'Content-Type: audio/wav',
    url,
  ]);
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0 || out !== '201')
    throw new Error(`upload to ${url} answered ${out} (exit ${code}): ${err.slice(-500)}`);
  const cpu = /cpu ([\d.]+) ([\d.]+)/.exec(err);
  return {
    seconds,
    curlCpu: cpu ? Number(cpu[1]) + Number(cpu[2]) : 0,
    serverCpu: processCpuSeconds(serverPid) - serverBefore,
  };
}

export const api: Benchmark = {
  name: 'api',
  title: 'API: record reads and streamed uploads against a bare Bun.serve',
  tools: ['wrk', 'curl'],
  async run({ smoke }) {
    const reps = smoke ? 1 : 3;
    const seconds = smoke ? 1 : 10;
    const uploadBytes = smoke ? 8 * MiB : 1024 * MiB;
    const work = mkdtempSync(join(tmpdir(), 'mediaforge-bench-api-'));
    const database = await createTestPostgres();
    const env = {
      ...process.env,
      DATABASE_URL: database.url,
      MEDIAFORGE_HOME: join(work, 'home'),
      MAX_FILE_SIZE_MB: '2048',
      API_PORT: '0',
      API_RATE_LIMIT_PER_MINUTE: '1000000000',
      LOG_LEVEL: 'warn',
    };
    const servers: ReturnType<typeof Bun.spawn>[] = [];
    try {
      await sh(['bun', CLI, 'migrate'], { env });
      const key = (await sh(['bun', CLI, 'keys', 'create', '--user', 'bench'], { env })).trim();
      const serve = Bun.spawn(['bun', CLI, 'serve', '--no-worker'], { env, stdout: 'ignore', stderr: 'pipe' });
      servers.push(serve);
      const base = await waitFor(serve.stderr, /API on (http:\/\/\S+)/);
      const idleRss = memory(serve.pid, 'VmRSS');
      const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
      const createRecord = async () => {
        const response = await fetch(new URL('/v1/records', base), {
          method: 'POST',
          headers: auth,
          body: JSON.stringify({ mediaType: 'audio' }),
        });
        return ((await response.json()) as { uid: string }).uid;
      };
      const wav = join(work, 'upload.wav');
      const stamp = await writeWav(wav, uploadBytes);

      // The record that reads fetch has a stored file, so its document is a full one.
      const readUid = await createRecord();
      stamp(0);
      await curlUpload(new URL(`/v1/records/${readUid}/file`, base).toString(), key, wav);
      const recordJson = join(work, 'record.json');
      await Bun.write(
        recordJson,
        await (await fetch(new URL(`/v1/records/${readUid}`, base), { headers: auth })).text(),
      );
      const bare = Bun.spawn(['bun', join(import.meta.dir, 'bare-server.child.ts'), recordJson, work], {
        stdout: 'pipe',
        stderr: 'inherit',
      });
      servers.push(bare);
      const bareBase = await waitFor(bare.stdout, /(http:\/\/\S+)/);
      const bareDb = Bun.spawn(['bun', join(import.meta.dir, 'bare-db-server.child.ts'), database.url], {
        stdout: 'pipe',
        stderr: 'inherit',
      });
      servers.push(bareDb);
      const bareDbBase = await waitFor(bareDb.stdout, /(http:\/\/\S+)/);

      const reads = { mediaforge: [] as number[], bareDb: [] as number[], bare: [] as number[] };
      const health = { mediaforge: [] as number[], bare: [] as number[] };
      const uploads = { mediaforge: [] as number[], bare: [] as number[], bareFsync: [] as number[] };
      const uploadCpu = { mediaforge: [] as Upload[], bare: [] as Upload[] };
      const hashRate = sha256BytesPerSecond(smoke ? 16 * MiB : 256 * MiB);
      // Uploads first, on a server that has served one upload: its peak RSS is then the uploads' alone.
      for (let rep = 0; rep < reps; rep++) {
        console.error(`  uploads ${rep + 1}/${reps}`);
        stamp(rep + 1);
        const uid = await createRecord();
        const ours = await curlUpload(new URL(`/v1/records/${uid}/file`, base).toString(), key, wav, serve.pid);
        const anchor = await curlUpload(new URL(`/v1/records/${uid}/file`, bareBase).toString(), key, wav, bare.pid);
        uploads.mediaforge.push(ours.seconds);
        uploads.bare.push(anchor.seconds);
        uploadCpu.mediaforge.push(ours);
        uploadCpu.bare.push(anchor);
        uploads.bareFsync.push(
          (await curlUpload(new URL(`/v1/records/${uid}/file?fsync`, bareBase).toString(), key, wav)).seconds,
        );
        for (const name of readdirSync(work)) if (name.startsWith('upload-')) rmSync(join(work, name), { force: true });
      }
      const peak = memory(serve.pid, 'VmHWM');
      // Each peer once per repetition, in turn, so a burst of load from outside hits them alike.
      const recordPath = `/v1/records/${readUid}`;
      for (let rep = 0; rep < reps; rep++) {
        console.error(`  reads ${rep + 1}/${reps}`);
        reads.mediaforge.push(await wrk(new URL(recordPath, base).toString(), key, seconds));
        reads.bareDb.push(await wrk(new URL(recordPath, bareDbBase).toString(), key, seconds));
        reads.bare.push(await wrk(new URL(recordPath, bareBase).toString(), key, seconds));
        health.mediaforge.push(await wrk(new URL('/health', base).toString(), key, seconds));
        health.bare.push(await wrk(new URL('/health', bareBase).toString(), key, seconds));
      }
      const mbps = (list: number[]) => uploadBytes / 1e6 / median(list);
      const readRatio = median(reads.mediaforge) / median(reads.bareDb);
      const healthRatio = median(health.mediaforge) / median(health.bare);
      const uploadRatio = mbps(uploads.mediaforge) / mbps(uploads.bare);
      // The best ratio the machine allows against the bare server (see cpuCeiling): its work, curl's, plus SHA-256.
      const uploadCeiling = median(
        uploadCpu.bare.map((run) =>
          cpuCeiling(
            { peerSeconds: run.seconds, peerCpu: run.serverCpu, othersCpu: run.curlCpu },
            uploadBytes / hashRate,
          ),
        ),
      );
      const cpuOf = (runs: Upload[], of: 'curlCpu' | 'serverCpu') => fixed(median(runs.map((run) => run[of])), 2);
      return {
        results: {
          reps,
          seconds,
          uploadBytes,
          reads,
          health,
          uploads,
          uploadCpu,
          sha256BytesPerSecond: hashRate,
          uploadCeiling,
          idleRssMiB: idleRss,
          peakRssMiB: peak,
        },
        pass: readRatio >= READ_TARGET && healthRatio >= HEALTH_TARGET && peak < LIMIT_MIB,
        table: [
          ['measure', 'mediaforge serve', 'anchor', 'anchor value', 'mediaforge ÷ anchor'],
          [
            `GET /v1/records/{uid}, ${CONNECTIONS} connections (req/s)`,
            fixed(median(reads.mediaforge), 0),
            'bare Bun.serve + one prepared postgres.js query',
            fixed(median(reads.bareDb), 0),
            fixed(readRatio, 2),
          ],
          [
            `GET /v1/records/{uid}, ${CONNECTIONS} connections (req/s)`,
            fixed(median(reads.mediaforge), 0),
            'bare Bun.serve from memory',
            fixed(median(reads.bare), 0),
            fixed(median(reads.mediaforge) / median(reads.bare), 2),
          ],
          [
            `GET /health, ${CONNECTIONS} connections (req/s)`,
            fixed(median(health.mediaforge), 0),
            'bare Bun.serve',
            fixed(median(health.bare), 0),
            fixed(healthRatio, 2),
          ],
          [
            `upload ${uploadBytes / MiB} MiB WAV (MB/s)`,
            fixed(mbps(uploads.mediaforge), 1),
            'bare Bun.serve writing the body to a file',
            fixed(mbps(uploads.bare), 1),
            fixed(uploadRatio, 2),
          ],
          [
            `upload ${uploadBytes / MiB} MiB WAV (MB/s)`,
            fixed(mbps(uploads.mediaforge), 1),
            'bare Bun.serve writing the body to a file, then fsync',
            fixed(mbps(uploads.bareFsync), 1),
            fixed(mbps(uploads.mediaforge) / mbps(uploads.bareFsync), 2),
          ],
          [
            '`mediaforge serve` RSS: idle → peak through the uploads (MiB)',
            `${fixed(idleRss, 0)} → ${fixed(peak, 0)}`,
            '',
            '',
            '',
          ],
        ],
        notes: [
          `Targets: record reads ≥ ${READ_TARGET}× the bare database server (${fixed(readRatio, 2)}×); \`/health\` through the full middleware stack ≥ ${HEALTH_TARGET}× a bare Bun.serve (${fixed(healthRatio, 2)}×); peak RSS of \`mediaforge serve\` through ${reps + 1} uploads of ${uploadBytes / MiB} MiB < ${LIMIT_MIB} MiB (${fixed(peak, 0)} MiB).`,
          `Reads: \`wrk -t2 -c${CONNECTIONS} -d${seconds}s\` with a bearer key, median of ${reps}, the five read measures taken in turn within each repetition; mediaforge checks the key (cached, evicted by NOTIFY on revocation), the rate limit and the owner, then reads the record from PostgreSQL on every request; the bare database server runs one prepared \`select * from records where uid = $1\` per request with a pool of 10 like mediaforge's, and returns the row as JSON; the bare memory server returns the same JSON from memory. Uploads: \`curl -X POST -T file\`, each to a new record, with new content each time (no dedupe); mediaforge detects, spools while hashing, validates the WAV, stores it on local disk (synced before it is visible) and updates the record; the bare server writes the body to a file (the target's anchor), and in a second row also syncs it (the floor for a durable write). wrk, curl and all three servers share the machine's 2 cores.`,
          `Uploads' CPU (user + system, median): \`mediaforge serve\` ${cpuOf(uploadCpu.mediaforge, 'serverCpu')} s per upload, the bare server ${cpuOf(uploadCpu.bare, 'serverCpu')} s, curl ${cpuOf(uploadCpu.bare, 'curlCpu')} s. The machine's ceiling against the bare server: ${fixed(uploadCeiling, 2)}× (1 means the cores do not stand in the way): mediaforge must do at least the bare server's work and SHA-256 every byte (${fixed(hashRate / 1e9, 2)} GB/s on one core here, measured in this run) on the cores curl shares, so it needs at least (bare server CPU + curl CPU + hash CPU) ÷ cores seconds per upload.`,
          `Versions: ${await toolVersion(['wrk', '-v'])}; ${await toolVersion(['curl', '--version'])}.`,
        ],
      };
    } finally {
      for (const server of servers) server.kill('SIGTERM');
      await Promise.all(servers.map((server) => server.exited));
      await database.drop();
      rmSync(work, { recursive: true, force: true });
    }
  },
};
