/**
 * Ingest: large (8 × 256 MiB) and small (2,000 × 16 KiB) files from a loopback nginx origin into local disk and
 * into S3 (s3rver), as a user would run each tool: `mediaforge ingest` (download, detect, validate, hash, store,
 * record in PostgreSQL), `curl --parallel` to disk (the download ceiling), `rclone copy` of the origin's listing
 * to disk and to S3, and `curl | aws s3 cp -` per file. Every file is a distinct valid WAV, so nothing dedupes.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestPostgres, which } from '@mediaforge/core/testing';
import { startS3Server, type TestS3Server } from '@mediaforge/storage/testing';
import {
  type Benchmark,
  collect,
  cpuCeiling,
  fixed,
  median,
  processCpuSeconds,
  recyclePageCache,
  sha256BytesPerSecond,
  toolVersion,
  wavHeader,
} from './lib.ts';

const CLI = join(import.meta.dir, '../packages/cli/src/main.ts');
const MiB = 1024 * 1024;

interface Dataset {
  name: string;
  files: number;
  bytes: number;
  concurrency: number;
}

interface Measured {
  seconds: number;
  /** Files it moved, when fewer than the dataset's. */
  files?: number;
  /** Peak RSS of the tool's process (KiB, from /usr/bin/time), when it is one process. */
  peakKib?: number;
  /** CPU time of the tool's process, user + system (seconds, from /usr/bin/time), when it is one process. */
  cpuSeconds?: number;
  /** CPU time the origin (nginx) used meanwhile. */
  originCpuSeconds?: number;
}

/** Distinct WAVs: random PCM, with the file's number stamped at the start of every MiB. */
async function writeOrigin(dir: string, dataset: Dataset): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const block = crypto.getRandomValues(new Uint8Array(Math.min(MiB, dataset.bytes)));
  const names: string[] = [];
  for (let i = 0; i < dataset.files; i++) {
    const name = `f${String(i).padStart(5, '0')}.wav`;
    const writer = Bun.file(join(dir, name)).writer();
    const dataBytes = dataset.bytes - 44;
    writer.write(wavHeader(dataBytes));
    for (let offset = 0; offset < dataBytes; offset += block.byteLength) {
      new DataView(block.buffer).setUint32(0, i);
      writer.write(block.subarray(0, Math.min(block.byteLength, dataBytes - offset)));
    }
    await writer.end();
    names.push(name);
  }
  return names;
}

async function freePort(): Promise<number> {
  const server = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
  const { port } = server;
  server.stop(true);
  return port;
}

async function startNginx(root: string, work: string): Promise<{ base: string; pid: number; stop(): Promise<void> }> {
  const port = await freePort();
  mkdirSync(join(work, 'tmp'), { recursive: true });
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((kind) => `${kind}_temp_path ${join(work, 'tmp', kind)};`)
    .join(' ');
  const conf = join(work, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off; master_process off; worker_processes 1; pid ${join(work, 'nginx.pid')};
error_log ${join(work, 'error.log')} error;
events { worker_connections 4096; }
http { access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000; ${temp}
  types { audio/wav wav; }
  server { listen 127.0.0.1:${port}; root ${root}; autoindex on; } }
`,
  );
  const proc = Bun.spawn([which('nginx') ?? 'nginx', '-p', work, '-c', conf, '-e', join(work, 'error.log')], {
    stdout: 'ignore',
    stderr: 'inherit',
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (
      await fetch(`${base}/`)
        .then((r) => r.ok)
        .catch(() => false)
    )
      break;
    await Bun.sleep(50);
  }
  return {
    base,
    pid: proc.pid,
    async stop() {
      proc.kill();
      await proc.exited;
    },
  };
}

/** Where and how much page cache to recycle before each timed run (set per dataset; see `recyclePageCache`). */
const scratch = { path: '', bytes: 0 };

/**
 * Runs a command under /usr/bin/time for its peak RSS; throws with its output when it fails. `env` is laid over
 * this process's environment; an undefined value removes the variable. Page cache is recycled first unless `recycle`
 * is false (set-up steps whose time is not reported).
 */
async function timed(
  command: string[],
  env: Record<string, string | undefined> = {},
  { recycle = true } = {},
): Promise<Measured> {
  if (recycle) recyclePageCache(scratch.path, scratch.bytes);
  const started = performance.now();
  const merged: Record<string, string | undefined> = { ...process.env, ...env };
  for (const [key, value] of Object.entries(merged)) if (value === undefined) delete merged[key];
  const { out, err, code } = await collect(['/usr/bin/time', '-f', 'peak-kib %M cpu %U %S', ...command], {
    env: merged as Record<string, string>,
  });
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) {
    throw new Error(`${command.slice(0, 3).join(' ')} exited with ${code}: ${err.slice(-500)} ${out.slice(-1500)}`);
  }
  const peak = /peak-kib (\d+)/.exec(err)?.[1];
  const cpu = /cpu ([\d.]+) ([\d.]+)/.exec(err);
  return {
    seconds,
    ...(peak ? { peakKib: Number(peak) } : {}),
    ...(cpu ? { cpuSeconds: Number(cpu[1]) + Number(cpu[2]) } : {}),
  };
}

/** Runs `jobs` shell commands with at most `concurrency` at once (how a script parallelizes a one-file tool). */
async function pool(commands: string[], concurrency: number): Promise<Measured> {
  recyclePageCache(scratch.path, scratch.bytes);
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < commands.length) {
        const command = commands[next++] as string;
        const child = Bun.spawn(['sh', '-c', command], { stdout: 'ignore', stderr: 'pipe' });
        const [err, code] = await Promise.all([new Response(child.stderr).text(), child.exited]);
        if (code !== 0) throw new Error(`${command} exited with ${code}: ${err.slice(-500)}`);
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000 };
}

function s3Env(s3: TestS3Server): Record<string, string> {
  return { ...s3.env, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_DEFAULT_REGION: 'us-east-1' };
}

type Tool = (ctx: {
  urls: string[];
  listing: string;
  dest: string;
  dataset: Dataset;
  s3?: TestS3Server;
}) => Promise<Measured>;

/**
 * A fresh database for one mediaforge run, migrated (not measured: no page cache recycled for it), the URLs listed
 * in a file, and the environment the run gets; the database is dropped after `run`.
 */
async function withMediaforge(
  { urls, dest, s3 }: Parameters<Tool>[0],
  extra: Record<string, string>,
  run: (list: string, env: Record<string, string>) => Promise<Measured>,
): Promise<Measured> {
  const database = await createTestPostgres();
  try {
    const list = join(dest, 'urls.txt');
    writeFileSync(list, `${urls.join('\n')}\n`);
    const env = {
      DATABASE_URL: database.url,
      MEDIAFORGE_HOME: join(dest, 'home'),
      MAX_FILE_SIZE_MB: '1024',
      MAX_BATCH_SIZE: '10000',
      LOG_LEVEL: 'warn',
      ...(s3 ? s3.env : { STORAGE_URL: `file://${join(dest, 'objects')}` }),
      ...extra,
    };
    await timed(['bun', CLI, 'migrate'], env, { recycle: false });
    return await run(list, env);
  } finally {
    await database.drop();
  }
}

const mediaforge: Tool = (input) =>
  withMediaforge(input, {}, (list, env) => {
    const args = ['ingest', '--from-file', list, '--concurrency', String(input.dataset.concurrency), '--allow-private'];
    return timed(['bun', CLI, ...args, '--json'], env);
  });

/**
 * The background path, as a big batch runs: the batch queued (`ingest --background`), then one worker until it is
 * done, both timed. The worker gets the dataset's concurrency as its slots and its downloads per origin (one origin
 * here; DOWNLOAD_CONCURRENCY_PER_ORIGIN would hold it to 4), as the other tools get it.
 */
const mediaforgeWorker: Tool = (input) => {
  const n = String(input.dataset.concurrency);
  return withMediaforge(input, { DOWNLOAD_CONCURRENCY_PER_ORIGIN: n }, async (list, env) => {
    const queue = `bun ${CLI} ingest --from-file ${list} --allow-private --background --json > /dev/null`;
    const measured = await timed(['sh', '-c', `${queue} && bun ${CLI} worker --until-idle --concurrency ${n}`], env);
    const { out } = await collect(['bun', CLI, 'jobs', 'list', '--json'], {
      env: { ...(process.env as Record<string, string>), ...env },
    });
    const [task] = (JSON.parse(out) as { tasks: { status: string; progress: { succeeded: number } }[] }).tasks;
    if (task?.status !== 'succeeded' || task.progress.succeeded !== input.urls.length) {
      throw new Error(`the background ingest did not store every file: ${JSON.stringify(task)}`);
    }
    return measured;
  });
};

const curlParallel: Tool = async ({ urls, dest, dataset }) => {
  const config = join(dest, 'curl.conf');
  writeFileSync(config, urls.map((url, i) => `url = "${url}"\noutput = "${join(dest, `c${i}.wav`)}"\n`).join(''));
  return timed([
    'curl',
    '--fail',
    '--silent',
    '--parallel',
    '--parallel-max',
    String(dataset.concurrency),
    '-K',
    config,
  ]);
};

const rcloneFlags = (dataset: Dataset, listing: string) => [
  '--http-url',
  listing,
  '--transfers',
  String(dataset.concurrency),
  '--checkers',
  String(dataset.concurrency),
  '--config',
  '/dev/null',
];

const rcloneDisk: Tool = ({ listing, dest, dataset }) =>
  timed(['rclone', 'copy', ':http:', join(dest, 'rclone'), ...rcloneFlags(dataset, listing)]);

const rcloneS3: Tool = ({ listing, dataset, s3 }) =>
  timed(
    [
      'rclone',
      'copy',
      ':http:',
      `:s3:${s3?.bucket}/rclone-${Date.now()}`,
      ...rcloneFlags(dataset, listing),
      '--s3-provider',
      'Other',
      '--s3-endpoint',
      s3?.endpoint ?? '',
      '--s3-access-key-id',
      'S3RVER',
      '--s3-secret-access-key',
      'S3RVER',
      '--s3-force-path-style',
    ],
    // This machine points AWS_CA_BUNDLE at its proxy's CA; rclone's S3 client refuses it even for plain http.
    { AWS_CA_BUNDLE: undefined },
  );

/** The aws CLI is one Python process per file (~0.5 s of CPU each), so for many files it runs on the first 200. */
const AWS_MAX_FILES = 200;

const curlAws: Tool = async ({ urls, dataset, s3 }) => {
  const prefix = `aws-${Date.now()}`;
  const env = Object.entries(s3Env(s3 as TestS3Server))
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');
  const subset = urls.slice(0, AWS_MAX_FILES);
  const measured = await pool(
    subset.map(
      (url, i) =>
        `curl --fail --silent ${url} | env -u AWS_CA_BUNDLE ${env} ${which('aws') ?? 'aws'} s3 cp --only-show-errors --endpoint-url ${s3?.endpoint} - s3://${s3?.bucket}/${prefix}/${i}.wav`,
    ),
    dataset.concurrency,
  );
  return { ...measured, files: subset.length };
};

const TOOLS: { name: string; target: 'disk' | 's3'; tool: Tool; peakIsOneProcess: boolean }[] = [
  { name: 'mediaforge ingest', target: 'disk', tool: mediaforge, peakIsOneProcess: true },
  { name: 'mediaforge ingest --background + worker', target: 'disk', tool: mediaforgeWorker, peakIsOneProcess: true },
  { name: 'curl --parallel', target: 'disk', tool: curlParallel, peakIsOneProcess: true },
  { name: 'rclone copy', target: 'disk', tool: rcloneDisk, peakIsOneProcess: true },
  { name: 'mediaforge ingest', target: 's3', tool: mediaforge, peakIsOneProcess: true },
  { name: 'rclone copy', target: 's3', tool: rcloneS3, peakIsOneProcess: true },
  { name: 'curl piped to aws s3 cp -', target: 's3', tool: curlAws, peakIsOneProcess: false },
];

export const ingest: Benchmark = {
  name: 'ingest',
  title: 'Ingest: large and small files from an nginx origin to disk and S3',
  tools: ['nginx', 'rclone', 'curl', 'aws', '/usr/bin/time'],
  async run({ smoke }) {
    // BENCH_REPS lowers the repetitions when the machine is too busy for three full runs (the notes say how many).
    const reps = smoke ? 1 : Math.max(1, Number(process.env.BENCH_REPS ?? 3));
    // BENCH_DATASETS=small (or large) runs one of the two when there is no time for both.
    const only = process.env.BENCH_DATASETS?.split(',');
    const all: Dataset[] = smoke
      ? [
          { name: 'large', files: 2, bytes: 2 * MiB, concurrency: 2 },
          { name: 'small', files: 20, bytes: 16 * 1024, concurrency: 8 },
        ]
      : [
          { name: 'large', files: 8, bytes: 256 * MiB, concurrency: 8 },
          { name: 'small', files: 2000, bytes: 16 * 1024, concurrency: 16 },
        ];
    const datasets = all.filter((dataset) => !only || only.includes(dataset.name));
    // BENCH_TARGETS=s3 (or disk) runs the tools of one destination; BENCH_TOOLS=mediaforge,rclone the tools whose
    // names start with one of these words (for experiments; a recorded run has every tool).
    const targetsRun = process.env.BENCH_TARGETS?.split(',');
    const toolsRun = process.env.BENCH_TOOLS?.split(',');
    const tools = TOOLS.filter(
      (tool) =>
        (!targetsRun || targetsRun.includes(tool.target)) &&
        (!toolsRun || toolsRun.some((word) => tool.name.startsWith(word))),
    );
    const work = mkdtempSync(join(tmpdir(), 'mediaforge-bench-ingest-'));
    const hashRate = sha256BytesPerSecond(smoke ? 16 * MiB : 256 * MiB);
    const results: Record<string, Record<string, Measured[]>> = {};
    const rows: string[][] = [];
    const targets: Record<string, number> = {};
    try {
      const root = join(work, 'origin');
      const nginx = await startNginx(root, join(work, 'nginx'));
      try {
        for (const dataset of datasets) {
          const names = await writeOrigin(join(root, dataset.name), dataset);
          const urls = names.map((name) => `${nginx.base}/${dataset.name}/${name}`);
          const listing = `${nginx.base}/${dataset.name}/`;
          const byTool: Record<string, Measured[]> = {};
          scratch.path = join(work, 'recycle.bin');
          scratch.bytes = Math.max(64 * MiB, Math.ceil((dataset.files * dataset.bytes * 1.1) / MiB) * MiB);
          // ext4 without a journal (this machine's) skips inodes freed in the last minutes when it allocates one,
          // so deleting a run's thousands of files would slow the next tool's creates: many-file runs are kept until
          // the dataset is done.
          const keep: string[] = [];
          for (let rep = 0; rep < reps; rep++) {
            for (const { name, target, tool } of tools) {
              console.error(`  ${dataset.name} ${name} → ${target} ${rep + 1}/${reps}`);
              const dest = mkdtempSync(join(work, 'dest-'));
              const s3 = target === 's3' ? await startS3Server({ bucket: 'bench' }) : undefined;
              try {
                // The origin's CPU meanwhile (s3rver's is not counted: it shares this process with the page-cache
                // recycling before each run).
                const originBefore = processCpuSeconds(nginx.pid);
                const ran = await tool({ urls, listing, dest, dataset, ...(s3 ? { s3 } : {}) }).catch(
                  (error: unknown) => {
                    // A peer that fails (the aws CLI against s3rver, at times) leaves its row empty, not the run lost.
                    if (name === 'mediaforge ingest') throw error;
                    console.error(`    failed: ${String(error).slice(0, 300)}`);
                    return undefined;
                  },
                );
                if (!ran) continue;
                const measured: Measured = { ...ran, originCpuSeconds: processCpuSeconds(nginx.pid) - originBefore };
                const key = `${name} → ${target}`;
                byTool[key] = [...(byTool[key] ?? []), measured];
                console.error(
                  `    ${measured.seconds.toFixed(2)} s${measured.peakKib ? `, peak ${Math.round(measured.peakKib / 1024)} MiB` : ''}`,
                );
              } finally {
                // (s3rver's own files too: it stores three files per object.)
                await s3?.close({ keepFiles: dataset.files > 100 });
                if (s3 && dataset.files > 100) keep.push(s3.directory);
                if (dataset.files > 100) keep.push(dest);
                else rmSync(dest, { recursive: true, force: true });
              }
            }
          }
          for (const dest of keep) rmSync(dest, { recursive: true, force: true });
          results[dataset.name] = byTool;
          rmSync(join(root, dataset.name), { recursive: true, force: true });
          // Per-run rates (a tool may have moved a subset), then their median.
          const rates = (key: string, per: (m: Measured) => number) =>
            median((byTool[key] ?? []).map((m) => per(m) / m.seconds));
          const rate = (key: string) => rates(key, (m) => ((m.files ?? dataset.files) * dataset.bytes) / 1e6);
          const filesRate = (key: string) => rates(key, (m) => m.files ?? dataset.files);
          // What the machine allows at best against a peer (see cpuCeiling), per run, then the median.
          const hashCpu = (dataset.files * dataset.bytes) / hashRate;
          const ceiling = (key: string) =>
            median(
              (byTool[key] ?? []).map((m) =>
                cpuCeiling(
                  { peerSeconds: m.seconds, peerCpu: m.cpuSeconds ?? 0, othersCpu: m.originCpuSeconds ?? 0 },
                  hashCpu,
                ),
              ),
            );
          for (const { name, target, peakIsOneProcess } of tools) {
            const key = `${name} → ${target}`;
            const ours = `mediaforge ingest → ${target}`;
            const peaks = (byTool[key] ?? []).flatMap((m) => (m.peakKib ? [m.peakKib] : []));
            const cpus = (byTool[key] ?? []).flatMap((m) => (m.cpuSeconds === undefined ? [] : [m.cpuSeconds]));
            const origin = (byTool[key] ?? []).flatMap((m) => (m.originCpuSeconds ? [m.originCpuSeconds] : []));
            rows.push([
              `${dataset.files} × ${dataset.bytes >= MiB ? `${dataset.bytes / MiB} MiB` : `${dataset.bytes / 1024} KiB`}`,
              target === 'disk' ? 'local disk' : 'S3 (s3rver)',
              name,
              fixed(rate(key), 1),
              fixed(filesRate(key), 1),
              peakIsOneProcess && peaks.length > 0 ? fixed(Math.max(...peaks) / 1024, 0) : '',
              peakIsOneProcess && cpus.length > 0 ? fixed(median(cpus), 2) : '',
              origin.length > 0 ? fixed(median(origin), 2) : '',
              key === ours ? '1.00' : fixed(rate(ours) / rate(key), 2),
            ]);
          }
          if (dataset.name === 'large') {
            targets.largeVsRcloneDisk = rate('mediaforge ingest → disk') / rate('rclone copy → disk');
            targets.largeVsRcloneS3 = rate('mediaforge ingest → s3') / rate('rclone copy → s3');
            targets.largeVsCurl = rate('mediaforge ingest → disk') / rate('curl --parallel → disk');
            targets.largeCeilingVsRcloneDisk = ceiling('rclone copy → disk');
            targets.largeCeilingVsCurl = ceiling('curl --parallel → disk');
          } else {
            targets.smallVsRcloneDisk = filesRate('mediaforge ingest → disk') / filesRate('rclone copy → disk');
            targets.smallVsRcloneS3 = filesRate('mediaforge ingest → s3') / filesRate('rclone copy → s3');
            targets.smallCeilingVsRcloneDisk = ceiling('rclone copy → disk');
          }
          // Not a target of its own: how the background path compares (a worker must reach what the CLI does).
          const worker = `mediaforge ingest --background + worker → disk`;
          if (byTool[worker]) targets[`${dataset.name}WorkerVsRcloneDisk`] = rate(worker) / rate('rclone copy → disk');
        }
      } finally {
        await nginx.stop();
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    const limits: Record<string, number> = {
      largeVsRcloneDisk: 1,
      largeVsRcloneS3: 1,
      largeVsCurl: 0.8,
      smallVsRcloneDisk: 1,
      smallVsRcloneS3: 1,
    };
    const pass = Object.entries(limits).every(([key, limit]) => (targets[key] ?? 0) >= limit);
    const describe = (key: string, label: string) => `${label} ${fixed(targets[key] ?? 0, 2)}× (≥ ${limits[key]})`;
    return {
      results: { targets, sha256BytesPerSecond: hashRate, runs: results },
      pass,
      table: [
        [
          'files',
          'into',
          'tool',
          'MB/s',
          'files/s',
          'peak RSS MiB',
          'CPU s (user + sys)',
          'origin CPU s',
          'mediaforge ÷ this (MB/s)',
        ],
        ...rows,
      ],
      notes: [
        `Targets, mediaforge ÷ peer: ${[
          describe('largeVsRcloneDisk', 'large files vs rclone to disk'),
          describe('largeVsRcloneS3', 'to S3'),
          describe('largeVsCurl', 'vs curl --parallel to disk'),
          describe('smallVsRcloneDisk', 'small files (files/s) vs rclone to disk'),
          describe('smallVsRcloneS3', 'to S3'),
        ].join('; ')}.`,
        `Median of ${reps} runs; each run starts with an empty destination (and a fresh database for mediaforge), and right before it a scratch file of the dataset's size is written and deleted, so every tool writes into the same freshly recycled memory (see recyclePageCache). Concurrency: ${datasets.map((d) => `${d.concurrency} for ${d.name}`).join(', ')}, the same for every tool. mediaforge does more per file than the peers: content detection, full WAV validation, sha256, a PostgreSQL record and its dedupe lookup. CPU is the tool's own process (user + system, median), not the origin's or s3rver's: on this 2-core machine, the origin and the tool share the cores, so a tool that needs more CPU per byte moves fewer bytes per second once both cores are busy.`,
        `The machine's ceiling for each disk target (mediaforge ÷ peer at best): mediaforge must do at least the peer's work (the peer's CPU, measured) and SHA-256 every byte (the record's identity: ${fixed(hashRate / 1e9, 2)} GB/s on one core here, measured in this run) on the same ${availableParallelism()} cores the origin used (its CPU, measured), so it needs at least (peer CPU + origin CPU + hash CPU) ÷ cores seconds: large files ${fixed(targets.largeCeilingVsRcloneDisk ?? 0, 2)}× rclone and ${fixed(targets.largeCeilingVsCurl ?? 0, 2)}× curl; small files ${fixed(targets.smallCeilingVsRcloneDisk ?? 0, 2)}× rclone (1 means the cores do not stand in the way). It assumes mediaforge cannot receive and write a byte with less CPU than the peer does.`,
        `Background path (not a target; the batch as a worker runs it): large ${fixed(targets.largeWorkerVsRcloneDisk ?? 0, 2)}×, small ${fixed(targets.smallWorkerVsRcloneDisk ?? 0, 2)}× rclone to disk.`,
        `Commands: \`mediaforge ingest --from-file urls.txt --concurrency N --allow-private\`; \`mediaforge ingest --from-file urls.txt --allow-private --background\` then \`mediaforge worker --until-idle --concurrency N\` with DOWNLOAD_CONCURRENCY_PER_ORIGIN=N, both timed; \`curl --parallel --parallel-max N -K list\`; \`rclone copy :http: DEST --http-url ORIGIN/dir/ --transfers N --checkers N\` (nginx autoindex listing); \`curl URL | aws s3 cp - s3://bench/KEY\` per file, N at once (on the first ${AWS_MAX_FILES} files when there are more: one Python process per file). Versions: ${await toolVersion([which('nginx') ?? 'nginx', '-v'])}; ${await toolVersion(['curl', '--version'])}; ${await toolVersion(['rclone', 'version'])}; ${await toolVersion([which('aws') ?? 'aws', '--version'])}.`,
      ],
    };
  },
};
