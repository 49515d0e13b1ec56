/**
 * RELIABILITY.md's sections for the file path's integrity (issue 17): the model-based run
 * (tests/integrity/model.test.ts) and the crash-steps scenario (chaos/crash-steps.test.ts), from the figures they
 * wrote to chaos/results/. Kept apart from run.ts so other scenarios' sections merge without touching these.
 */
type Counts = Record<string, number>;

interface ModelFigures {
  seeds: number;
  stepsPerSeed: number;
  runs: number;
  steps: number;
  opsByKind: Counts;
  violations: number;
  byRun: { backend: string; seed: number; steps: number; records: number; failure?: string }[];
}

/** One kill step's figures, as the crash-steps scenario writes them. */
export interface StepFigures {
  cases: number;
  killed: number;
  unreferencedBeforeSweep: number;
  removedBySweep: number;
  orphansAfterSweep: number;
  nextSucceeded: number;
  violations: number;
}
interface CrashFigures {
  rounds: number;
  stores: string[];
  cases: number;
  byStep: Record<string, StepFigures>;
  byOp: Counts;
  violations: number;
  diskTempFiles: number;
}

/** Not operations but how they ran: uploads/ingests that shared an object, steps with several operations at once. */
const NOT_OPERATIONS = new Set(['shared', 'concurrent-steps']);

const STEP_WORDS: Record<string, string> = {
  'after-claim': 'after the claim',
  'during-spool': 'while spooling (first chunk written)',
  'after-reserve': 'after the key reservation',
  'during-put': 'during the put (body held back before its last byte)',
  'after-put': 'after the put, before the commit',
  'after-commit': 'right after the commit, before the old bytes are removed',
  'delete-after-commit': "during a delete: after the row's commit, before the bytes are removed",
};

export function integritySections(
  read: <T>(name: string) => T | undefined,
  table: (head: string[], rows: (string | number)[][]) => string,
): string[] {
  const lines: string[] = [];
  const model = read<ModelFigures>('model');
  const crash = read<CrashFigures>('crash-steps');
  if (model) {
    const ops = Object.entries(model.opsByKind).sort((a, b) => b[1] - a[1]);
    const backends = [...new Set(model.byRun.map((run) => run.backend))].join(' and ');
    const failed = model.byRun.filter((run) => run.failure);
    lines.push(
      '## Model-based test of the file pipeline',
      '',
      `\`tests/integrity/model.test.ts\`: two users drive seeded random operations (some concurrently) against ${backends} (PGlite with the local disk, PostgreSQL with s3rver); an in-memory model says what each user should see, and the storage and ownership invariants are checked after every step (every record's object live, its refs equal to the records pointing at it, its bytes hashing to the record's sha256; no key written twice; nothing in the store without an objects row; each user sees exactly the model's records and none of the other's). At the end the sweep runs and the store is reconciled with the records. ${model.runs} runs (${model.seeds} seeds × ${model.stepsPerSeed} steps per backend), ${model.steps} steps in all. Violations: ${model.violations}${failed.length ? ` (FAILED: ${failed.map((run) => `${run.backend} seed ${run.seed}`).join(', ')})` : ''}.`,
      '',
      table(
        ['operation', 'times'],
        ops.filter(([k]) => !NOT_OPERATIONS.has(k)).map(([k, n]) => [k, n]),
      ),
      '',
      `Of these, ${model.opsByKind.shared ?? 0} uploads or ingests shared an object another record already had (dedupe), and ${model.opsByKind['concurrent-steps'] ?? 0} steps ran two to four operations at once.`,
      '',
    );
  }
  if (crash) {
    const steps = Object.entries(crash.byStep);
    const total = (pick: (s: StepFigures) => number) => steps.reduce((sum, [, s]) => sum + pick(s), 0);
    lines.push(
      '## Kill -9 at each step of the file path',
      '',
      `\`chaos/crash-steps.test.ts\`: each operation (${Object.keys(crash.byOp).join(', ')}) runs in a child process that is SIGKILLed at one step (core's \`MEDIAFORGE_CRASH_AT\` test hook; the put through a store wrapper), on PostgreSQL with ${crash.stores.map((s) => (s === 's3' ? 's3rver' : 'the local disk')).join(' and ')}, ${crash.rounds} rounds, ${crash.cases} kills. After each kill the records already point only at intact bytes; then the clock moves past the sweep's grace and the claims' stale time, the maintenance sweep runs, and the next operation on the record takes the dead claim over. Violations: ${crash.violations}.`,
      '',
      table(
        [
          'killed',
          'kills',
          'objects without a record before the sweep',
          'removed by the sweep',
          'orphans after',
          'next operation succeeded',
          'violations',
        ],
        [
          ...steps.map(([step, s]) => [
            STEP_WORDS[step] ?? step,
            s.killed === s.cases ? s.cases : `${s.killed} of ${s.cases}`,
            s.unreferencedBeforeSweep,
            s.removedBySweep,
            s.orphansAfterSweep,
            `${s.nextSucceeded} of ${s.cases}`,
            s.violations,
          ]),
          [
            'all',
            total((s) => s.killed),
            total((s) => s.unreferencedBeforeSweep),
            total((s) => s.removedBySweep),
            total((s) => s.orphansAfterSweep),
            `${total((s) => s.nextSucceeded)} of ${crash.cases}`,
            crash.violations,
          ],
        ],
      ),
      '',
      `"Objects without a record before the sweep" counts every such object in the store, including ones left by earlier kills in the same run and complete leftovers a later run may reuse; the sweep removes reservations never committed and finishes retirements. A put killed mid-write on the local disk leaves its dot-named temp file, which listing ignores and nothing removes: ${crash.diskTempFiles} such files at the end.`,
      '',
    );
  }
  return lines;
}
