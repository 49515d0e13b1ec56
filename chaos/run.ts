/**
 * `bun run chaos`: the reliability and security suite at full scale (CHAOS_FULL=1), then RELIABILITY.md from the
 * figures each scenario wrote to chaos/results/. The test suite (and CI) runs the same scenarios at a short scale.
 */
import { existsSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { integritySections } from './lib/integrity-report.ts';
import { RESULTS } from './lib/scale.ts';

const ROOT = join(import.meta.dir, '..');
const only = process.argv.slice(2);
const run = Bun.spawn(['bun', 'test', ...(only.length ? only : ['./chaos']), '--timeout', '3600000'], {
  cwd: ROOT,
  env: { ...process.env, CHAOS_FULL: '1' },
  stdout: 'inherit',
  stderr: 'inherit',
});
const code = await run.exited;

type Counts = Record<string, number>;
const read = <T>(name: string): T | undefined => {
  const path = join(RESULTS, `${name}.json`);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : undefined;
};
interface Faults {
  scale: { tasks: number; itemsPerTask: number; workers: number; concurrencyPerWorker: number };
  elapsedSeconds: number;
  itemsPerSecond: number;
  baseline: { items: number; seconds: number; itemsPerSecond: number };
  items: number;
  succeeded: number;
  failed: number;
  failedByCode: Counts;
  itemsRetried: number;
  lost: number;
  duplicated: number;
  /** Objects no record referred to before the maintenance sweep (absent from results older than the sweep). */
  unreferencedBeforeSweep?: number;
  removedBySweep?: number;
  orphanObjects: number;
  injected: { origin: Counts; storage: Counts; database: Counts; workers: Counts };
  problems: string[];
  /** Exit codes or signals of every worker process that ended. */
  workerExits?: string[];
}
interface Book {
  total: number;
  byCategory: Counts;
  bySurface: Counts;
  mismatches: unknown[];
}
interface Fuzz {
  iterations: number;
  fixtures: number;
  mutations: string[];
  outcomes: Counts;
  crashes: unknown[];
  slowestMs: number;
  peakRssMiB: number;
}

const faults = read<Faults>('faults');
const api = read<Book>('hostile-api');
const lib = read<Book>('hostile-lib');
const outages = read<Book>('outages');
const fuzz = read<Fuzz>('fuzz');

const table = (head: string[], rows: (string | number)[][]) =>
  [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
const entries = (counts: Counts) => Object.entries(counts).sort((a, b) => b[1] - a[1]);
const cpu = cpus()[0]?.model ?? 'unknown CPU';

const lines: string[] = [
  '# Reliability',
  '',
  `What \`bun run chaos\` tried, how often, and what survived. Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Bun ${Bun.version}. The test suite (and CI) runs the same scenarios at a short scale; this file comes from the full one. Sources: \`chaos/*.test.ts\`; raw figures in \`chaos/results/\`.`,
  '',
];

if (faults) {
  const survived = faults.problems.length === 0 && faults.lost === 0 && faults.duplicated === 0;
  const unexpectedExits = (faults.workerExits ?? []).filter((exit) => exit !== 'SIGKILL' && exit !== '0');
  lines.push(
    '## Faults: ingest through misbehaving origins, storage, database and workers',
    '',
    `${faults.scale.tasks} tasks × ${faults.scale.itemsPerTask} URLs (plus one baseline task without faults), ingested by ${faults.scale.workers} \`mediaforge-worker\` processes × ${faults.scale.concurrencyPerWorker} concurrency on a PostgreSQL server of the suite's own, into s3rver behind a fault-injecting proxy. One URL in ten fails for good (404, redirect loop, not media, truncated WAV), one file per task is 6 MiB (a multipart upload). Workers: \`DOWNLOAD_TIMEOUT_SECONDS=1.5\`, \`DOWNLOAD_RETRIES=2\`, lease 3 s, up to 10 attempts per item with 0.5–4 s backoff.`,
    '',
    '### Load held',
    '',
    table(
      ['run', 'items', 'seconds', 'items/s'],
      [
        ['baseline, no faults', faults.baseline.items, faults.baseline.seconds, faults.baseline.itemsPerSecond],
        [
          'under every fault below',
          faults.scale.tasks * faults.scale.itemsPerTask,
          faults.elapsedSeconds,
          faults.itemsPerSecond,
        ],
      ],
    ),
    '',
    '### Invariants at the end',
    '',
    table(
      ['invariant', 'result'],
      [
        ['items terminal (none queued or running)', `${faults.items - faults.lost} of ${faults.items}`],
        ['items lost', faults.lost],
        ['URLs with more than one record (duplicates)', faults.duplicated],
        ...(faults.unreferencedBeforeSweep === undefined
          ? []
          : [
              [
                'objects without a record before the maintenance sweep (put by a killed worker, never committed)',
                faults.unreferencedBeforeSweep,
              ],
            ]),
        [
          faults.unreferencedBeforeSweep === undefined
            ? 'objects without a record'
            : 'objects without a record after the sweep',
          faults.orphanObjects,
        ],
        ['succeeded items with their record and a byte-identical object (sha256 against the origin)', faults.succeeded],
        [
          'failed items, all the bad URLs, each with its expected typed code',
          `${faults.failed}: ${entries(faults.failedByCode)
            .map(([c, n]) => `${c} ${n}`)
            .join(', ')}`,
        ],
        ['items that needed more than one attempt', faults.itemsRetried],
        ['task counters equal to the item table', faults.problems.length === 0 ? 'yes' : 'no'],
        [
          'worker processes that ended other than by our SIGKILL or with exit 0',
          unexpectedExits.length === 0 ? 'none' : `**${unexpectedExits.length}** (${unexpectedExits.join(', ')})`,
        ],
        ['verdict', survived ? 'survived: 0 lost, 0 duplicated' : `FAILED: ${faults.problems.length} problems`],
      ],
    ),
    '',
    '### Faults injected, by kind',
    '',
    table(
      ['where', 'fault', 'times'],
      [
        ...entries(faults.injected.origin).map(([k, n]) => ['origin', k, n]),
        ...entries(faults.injected.storage).map(([k, n]) => ['S3 proxy', k, n]),
        ...entries(faults.injected.database).map(([k, n]) => ['PostgreSQL', k, n]),
        ...entries(faults.injected.workers).map(([k, n]) => ['worker processes', k, n]),
      ],
    ),
    '',
  );
}

if (outages) {
  lines.push(
    '## Outages seen through the API',
    '',
    `${outages.total} cases: S3 refusing connections, S3 answering 500/503 to every request, PostgreSQL stopped. Requests get a typed 503 (\`STORAGE_TRANSIENT\`, \`DATABASE_ERROR\`) or 502, \`/ready\` reports the dependency, \`/health\` stays 200, and the same requests succeed once the dependency is back. Outcomes other than expected: ${outages.mismatches.length}.`,
    '',
  );
}

if (fuzz || api || lib) {
  const categories: Counts = { ...(api?.byCategory ?? {}) };
  for (const [k, n] of Object.entries(lib?.byCategory ?? {})) categories[k] = (categories[k] ?? 0) + n;
  const total = (api?.total ?? 0) + (lib?.total ?? 0) + (fuzz?.iterations ?? 0);
  lines.push(
    '## Hostile input',
    '',
    `${total} hostile inputs in all; every one got its typed error or was stored whole, the server stayed up, and nothing was written for a rejected input. Outcomes other than expected: ${(api?.mismatches.length ?? 0) + (lib?.mismatches.length ?? 0)}.`,
    '',
    table(
      ['category', 'cases'],
      [...entries(categories), ...(fuzz ? [['mutation fuzzing (library, bytes and streams)', fuzz.iterations]] : [])],
    ),
    '',
  );
  if (fuzz) {
    lines.push(
      `Fuzzing: ${fuzz.iterations} mutations (${fuzz.mutations.join(', ')}) of the ${fuzz.fixtures} corpus fixtures, detected and validated in a child process watched for progress. Outcomes: ${entries(
        fuzz.outcomes,
      )
        .map(([c, n]) => `${c} ${n}`)
        .join(
          ', ',
        )}. Crashes (anything but a typed error): ${fuzz.crashes.length}. Slowest input ${fuzz.slowestMs} ms; peak RSS ${fuzz.peakRssMiB} MiB.`,
      '',
    );
  }
}

// ---- Resource exhaustion (issue 18): rendered from exhaustion.json and the fuzzer's slowest input per MB. ----
lines.push(...resourceExhaustionSection());
// ---- Integrity of the file path (issue 17): model-based run and kill -9 at each step; see lib/integrity-report.ts ----
lines.push(...integritySections(read, table));

lines.push(
  '## Found and fixed by this suite',
  '',
  '- A worker stopped (SIGTERM) right after a PostgreSQL restart logged "worker stopped" and never exited: postgres.js re-subscribed its LISTEN connection on close. mediaforge now owns that connection (`packages/core/src/db/pg-listener.ts`), and a stopped worker exits even if a driver leaks a timer.',
  '- Items failed for good with code `ERROR` (and the raw SQL as their message) when the database restarted mid-item, leaving their object without a record. Database failures are now typed: `DATABASE_ERROR`, transient for lost connections and restarts, so the item is retried and completes.',
  '- A download whose server lied about Content-Length and then answered the resume with 416 failed for good; it is now transient, and the retry starts over.',
  '- A NUL character in a JSON string reached PostgreSQL and came back as 503; values the database refuses are now `400 INVALID_INPUT`.',
  '- Storage errors reached API clients as `500 INTERNAL_ERROR`; they are now typed (`503 STORAGE_TRANSIENT`, `502 STORAGE_*`).',
  '- A worker SIGTERMed while still starting died by the signal; it now starts, drains and exits 0. A worker started while PostgreSQL was down exited 1 at once; it now retries for `--connect-timeout` seconds (default 60).',
  '- A dropped database connection in the API (a transaction that could not open one) was a 500; it is a 503 `DATABASE_ERROR` now.',
  '- The model-based run found a deadlock on PostgreSQL: two files completing at once, each taking the object the other gave up. Object rows are now locked in key order, and the commit and delete transactions are rerun when PostgreSQL picks them as a deadlock victim.',
  '- A socket reset that escaped a storage driver mid-stream failed an item for good as `INTERNAL_ERROR`; raw network failures are now a transient `NETWORK_ERROR`, retried.',
  '',
);

await Bun.write(join(ROOT, 'RELIABILITY.md'), `${lines.join('\n')}\n`);
Bun.spawnSync(['bun', 'x', 'biome', 'format', '--write', join(ROOT, 'RELIABILITY.md')], { cwd: ROOT });
console.error(`\nRELIABILITY.md written (chaos suite exit ${code})`);
process.exit(code);

/** The "Resource exhaustion" section: per attack, /health latency, bomb cost per MB, peak RSS, and answers by kind. */
function resourceExhaustionSection(): string[] {
  interface Attack {
    name: string;
    seconds: number;
    requests: number;
    answers: Counts;
    unexpected5xx: number;
    shed: number;
    health: { probes: number; failed: number; worstMs: number; p99Ms: number };
    peakRssMiB: number;
    worstBomb?: { name: string; bytes: number; ms: number; msPerMb: number };
  }
  interface Exhaustion {
    scale: { stalled: number; dripping: number; storm: { keys: number; clientsPerKey: number; seconds: number } };
    goals: { healthMs: number; bombMsPerMb: number; stormRssMiB: number };
    baseline: { worstMs: number; p99Ms: number };
    attacks: Attack[];
    server: { peakRssMiB: number; unexpectedErrorLogs: number };
  }
  const ex = read<Exhaustion>('exhaustion');
  const fz = read<{
    slowestPerMb?: { input: string; bytes: number; ms: number; msPerMb: number };
    overBudget?: unknown[];
  }>('fuzz');
  if (!ex) return [];
  const { goals } = ex;
  const met = (ok: boolean) => (ok ? 'met' : '**missed**');
  const storm = ex.attacks.find((a) => a.name.startsWith('storm'));
  const worstHealth = Math.max(...ex.attacks.map((a) => a.health.worstMs));
  const worstBomb = ex.attacks
    .map((a) => a.worstBomb)
    .filter((b) => b !== undefined)
    .toSorted((a, b) => b.msPerMb - a.msPerMb)[0];
  const unexpected = ex.attacks.reduce((n, a) => n + a.unexpected5xx, 0);
  const out = [
    '## Resource exhaustion',
    '',
    `A real \`mediaforge serve --no-worker\` on PostgreSQL, attacked one way after another while a probe in its own process timed \`/health\` every 50 ms (idle baseline: worst ${ex.baseline.worstMs} ms, p99 ${ex.baseline.p99Ms} ms). Attacks: parser bombs of every container uploaded through the API; pixel bombs (a solid 10000 × 9999 WebP and header bombs) at once from four keys; ${ex.scale.stalled} stalled bodies (Content-Length, no body) and ${ex.scale.dripping} byte-a-second clients, half with keys; a storm of valid uploads from ${ex.scale.storm.keys} keys × ${ex.scale.storm.clientsPerKey} clients for ${ex.scale.storm.seconds} s. A 503 SERVER_BUSY/OVERLOADED or 429 with Retry-After is load shed on purpose and counted apart from unexpected 5xx.`,
    '',
    table(
      ['attack', 'requests', 'seconds', '/health worst / p99 ms', 'peak RSS MiB', 'shed', 'unexpected 5xx', 'answers'],
      ex.attacks.map((a) => [
        a.name,
        a.requests,
        a.seconds,
        `${a.health.worstMs} / ${a.health.p99Ms}`,
        a.peakRssMiB,
        a.shed,
        a.unexpected5xx,
        entries(a.answers)
          .map(([k, n]) => `${k} ${n}`)
          .join(', '),
      ]),
    ),
    '',
    table(
      ['goal', 'measured', 'verdict'],
      [
        [
          `/health ≤ ${goals.healthMs} ms under every attack`,
          `worst ${worstHealth} ms`,
          met(worstHealth <= goals.healthMs),
        ],
        [
          `a bomb answered within ${goals.bombMsPerMb} ms per MB (small inputs count as 1/8 MB)`,
          worstBomb
            ? `${worstBomb.msPerMb} ms/MB: ${worstBomb.name}, ${worstBomb.bytes} bytes in ${worstBomb.ms} ms`
            : 'n/a',
          met((worstBomb?.msPerMb ?? 0) <= goals.bombMsPerMb),
        ],
        [
          `peak RSS ≤ ${goals.stormRssMiB} MiB under the storm`,
          `${storm?.peakRssMiB ?? 'n/a'} MiB (VmHWM over the whole run ${ex.server.peakRssMiB} MiB)`,
          met((storm?.peakRssMiB ?? 0) <= goals.stormRssMiB),
        ],
        [
          'unexpected 5xx',
          `${unexpected} (server log: ${ex.server.unexpectedErrorLogs} unexpected errors)`,
          met(unexpected === 0),
        ],
        ...(fz?.slowestPerMb
          ? [
              [
                'fuzzer: every input ≤ 1 s per MB (250 ms floor)',
                `slowest ${fz.slowestPerMb.msPerMb} ms/MB: ${fz.slowestPerMb.input}, ${fz.slowestPerMb.bytes} bytes in ${fz.slowestPerMb.ms} ms; over budget: ${fz.overBudget?.length ?? 0}`,
                met((fz.overBudget?.length ?? 0) === 0),
              ],
            ]
          : []),
      ],
    ),
    '',
  ];
  // Causes as measured, written only when the goal is missed (the figures above are the evidence).
  const missed = ex.attacks.filter((a) => a.health.worstMs > goals.healthMs);
  if (missed.length > 0) {
    out.push(
      `The /health goal is missed under ${missed.map((a) => `${a.name} (worst ${a.health.worstMs} ms, p99 ${a.health.p99Ms} ms)`).join(' and ')}. Under the stalled sockets the p99 stays low: the slow probes are single ones while thousands of connections are opened and answered at once; their cause is not isolated further. Under the storm the two cores are saturated by the server (validation, hashing, PostgreSQL) and the ${ex.scale.storm.keys * ex.scale.storm.clientsPerKey} clients and the probe running beside it on the same machine, so /health waits its turn on the event loop. Anonymous byte-a-second bodies (JSON routes) are closed by API_IDLE_TIMEOUT_SECONDS without an answer even though they keep sending; only uploads lift that timeout.`,
      '',
    );
  }
  return out;
}
