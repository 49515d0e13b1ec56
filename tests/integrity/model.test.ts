/**
 * Model-based test of the file pipeline (issue 17): a seeded PRNG drives random operations by two users — create
 * (fresh, re-using a deleted uid, colliding with a live one), upload, replace, URL ingest, generate, force-regenerate,
 * delete, racing uploads, queueing, and cross-user attempts — some of them concurrently. An in-memory model says what
 * each user should see; after every step the storage and ownership invariants are checked, and at the end the sweep
 * runs and the store is reconciled with the records.
 *
 * MODEL_SEEDS (default 3) and MODEL_STEPS (default 300) scale the run; MODEL_SEED_BASE picks the first seed. Under
 * `bun run chaos` (CHAOS_FULL=1) the default is 600 steps per seed and the figures go to
 * chaos/results/model.json for RELIABILITY.md (a short run leaves the committed figures alone).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import {
  type Db,
  deleteRecord,
  FileProcessingError,
  objects,
  prng,
  processUrl,
  RecordFileGenerator,
  RecordNotFoundError,
  RecordRepository,
  type RecordRow,
  records,
  type Scope,
  sha256Hex,
  storeUpload,
  sweepObjects,
  TaskManager,
  userScope,
} from '@mediaforge/core';
import { describeBackends } from '@mediaforge/core/testing';
import type { ObjectStore } from '@mediaforge/storage';
import { isNotNull } from 'drizzle-orm';
import { FULL, saveResults } from '../../chaos/lib/scale.ts';
import {
  allStoreKeys,
  bytesOf,
  storedSha,
  storeFor,
  streamOf,
  testSettings,
  usageViolations,
  writeOnce,
} from './support.ts';

const SEEDS = Number(process.env.MODEL_SEEDS ?? 3);
const STEPS = Number(process.env.MODEL_STEPS ?? (FULL ? 600 : 300));

/** One finished (or failed) run per backend and seed; written to chaos/results/model.json after the file. */
interface RunFigures {
  backend: string;
  seed: number;
  steps: number;
  records: number;
  ops: Record<string, number>;
  violations: number;
  failure?: string;
}
const figures: RunFigures[] = [];
afterAll(async () => {
  const ops: Record<string, number> = {};
  for (const run of figures) for (const [k, v] of Object.entries(run.ops)) ops[k] = (ops[k] ?? 0) + v;
  await saveResults('model', {
    seeds: SEEDS,
    stepsPerSeed: STEPS,
    runs: figures.length,
    steps: figures.reduce((sum, run) => sum + run.steps, 0),
    opsByKind: ops,
    violations: figures.reduce((sum, run) => sum + run.violations, 0),
    byRun: figures,
  });
});
const SEED_BASE = Number(process.env.MODEL_SEED_BASE ?? 1);

type MediaType = 'text' | 'audio' | 'image';
const MEDIA: readonly MediaType[] = ['text', 'audio', 'image'];

/** A few fixed payloads per media type, so the same content goes to different records often (dedupe). */
const payloadFiles: Record<MediaType, string[]> = {
  text: ['fixture.txt'],
  audio: ['fixture.wav', 'fixture.mp3', 'fixture.flac'],
  image: ['fixture.png', 'fixture.jpg'],
};
const payloads = new Map<string, { mediaType: MediaType; bytes: Uint8Array; sha: string }>();
const textPayloads: Record<string, string> = {
  'alpha.txt': 'alpha: a short text payload\n',
  'beta.txt': 'beta: another short text payload, a little longer\n',
};

const origin = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  fetch(request) {
    const name = new URL(request.url).pathname.slice(1);
    const payload = payloads.get(name);
    return payload
      ? new Response(payload.bytes as Uint8Array<ArrayBuffer>)
      : new Response('no such payload', { status: 404 });
  },
});
afterAll(() => origin.stop(true));

beforeAll(async () => {
  for (const [mediaType, names] of Object.entries(payloadFiles) as [MediaType, string[]][]) {
    for (const name of names) {
      const bytes = await bytesOf(name);
      payloads.set(name, { mediaType, bytes, sha: sha256Hex(bytes) });
    }
  }
  for (const [name, text] of Object.entries(textPayloads)) {
    const bytes = new TextEncoder().encode(text);
    payloads.set(name, { mediaType: 'text', bytes, sha: sha256Hex(bytes) });
    payloadFiles.text.push(name);
  }
});

interface ModelRecord {
  uid: string;
  owner: string;
  mediaType: MediaType;
  hasFile: boolean;
  /** Known when the content is known in advance (uploads, ingest); generated content is taken from the result. */
  sha?: string;
}

type OpKind =
  | 'create'
  | 'create-reuse-deleted'
  | 'create-taken'
  | 'upload'
  | 'upload-has-file'
  | 'upload-mismatch'
  | 'replace'
  | 'ingest'
  | 'generate'
  | 'force-regenerate'
  | 'delete'
  | 'cross-user'
  | 'race'
  | 'queue-auto'
  /** Not operations: uploads/ingests that shared an existing object, and steps that ran operations at once. */
  | 'shared'
  | 'concurrent-steps';

describeBackends('integrity: model', (backend) => {
  let base: ObjectStore;
  let close = async () => {};
  const settings = testSettings();
  beforeAll(async () => {
    ({ store: base, close } = await storeFor(backend.kind));
  });
  afterAll(() => close());

  for (let s = 0; s < SEEDS; s++) {
    const seed = SEED_BASE + s;
    test(`seed ${seed}: ${STEPS} steps`, async () => {
      const run = new ModelRun(seed, backend.kind, backend.database().db, base, settings);
      try {
        await run.run(STEPS);
        figures.push(run.figures(STEPS));
      } catch (error) {
        figures.push({ ...run.figures(run.step), violations: 1, failure: (error as Error).message.slice(0, 2000) });
        throw error;
      }
    });
  }
});

class ModelRun {
  readonly random: () => number;
  readonly users: string[];
  readonly model = new Map<string, ModelRecord>();
  readonly deleted: { uid: string; owner: string }[] = [];
  readonly counts = new Map<string, number>();
  readonly store: ObjectStore;
  readonly checked: ReturnType<typeof writeOnce>;
  readonly repository: RecordRepository;
  readonly tasks: TaskManager;
  /** Hashes of keys already read: objects are write-once (the wrapper fails the run on any rewrite). */
  readonly verified = new Map<string, string>();
  step = 0;

  constructor(
    readonly seed: number,
    readonly kind: string,
    readonly db: Db,
    base: ObjectStore,
    readonly settings: ReturnType<typeof testSettings>,
  ) {
    this.random = prng(seed * 7919 + (kind === 'postgres' ? 1 : 0));
    // Per-run users, so several seeds share one database without seeing each other.
    this.users = [`alice-${seed}`, `bob-${seed}`];
    this.checked = writeOnce(base);
    this.store = this.checked.store;
    this.repository = new RecordRepository(db);
    this.tasks = new TaskManager({ database: { db }, settings });
  }

  // ── randomness ────────────────────────────────────────────────────────────────────────────────────────────
  int(n: number) {
    return Math.floor(this.random() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
  chance(p: number) {
    return this.random() < p;
  }
  ownRecords(owner: string, busy: Set<string>, filter: (r: ModelRecord) => boolean = () => true) {
    return [...this.model.values()].filter((r) => r.owner === owner && !busy.has(r.uid) && filter(r));
  }
  scope(user: string): Scope {
    return userScope(user);
  }
  other(user: string) {
    return this.users.find((u) => u !== user) as string;
  }
  count(kind: OpKind) {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
  }

  // ── the run ───────────────────────────────────────────────────────────────────────────────────────────────
  async run(steps: number) {
    for (this.step = 0; this.step < steps; this.step++) {
      const busy = new Set<string>();
      const width = this.chance(0.2) ? 2 + this.int(3) : 1;
      if (width > 1) this.count('concurrent-steps');
      const ops: (() => Promise<void>)[] = [];
      for (let i = 0; i < width; i++) ops.push(this.chooseOp(busy, width === 1));
      await Promise.all(ops.map((op) => op()));
      await this.checkInvariants();
    }
    await this.finish();
    const ops = [...this.counts.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    console.log(
      `[model] ${this.kind} seed=${this.seed} steps=${steps} records=${this.model.size} ops: ${ops} violations: 0`,
    );
  }

  figures(steps: number): RunFigures {
    return {
      backend: this.kind,
      seed: this.seed,
      steps,
      records: this.model.size,
      ops: Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b))),
      violations: 0,
    };
  }

  fail(message: string): never {
    throw new Error(`[model ${this.kind} seed=${this.seed} step=${this.step}] ${message}`);
  }

  /** Picks one operation and reserves the uids it touches (a concurrent batch never touches one record twice). */
  chooseOp(busy: Set<string>, alone: boolean): () => Promise<void> {
    const user = this.pick(this.users);
    const roll = this.random();
    const withFile = this.ownRecords(user, busy, (r) => r.hasFile);
    const any = this.ownRecords(user, busy);
    const reserve = (uid: string) => busy.add(uid);
    if (roll < 0.14 || any.length === 0) return this.opCreate(user, busy);
    if (roll < 0.3) {
      const target = this.pick(any);
      reserve(target.uid);
      return () => this.opUpload(user, target);
    }
    if (roll < 0.4 && withFile.length > 0) {
      const target = this.pick(withFile);
      reserve(target.uid);
      return () => this.opReplace(user, target);
    }
    if (roll < 0.48) return () => this.opIngest(user);
    if (roll < 0.6) {
      const target = this.pick(any);
      reserve(target.uid);
      return () => this.opGenerate(user, target, false);
    }
    if (roll < 0.68 && withFile.length > 0) {
      const target = this.pick(withFile);
      reserve(target.uid);
      return () => this.opGenerate(user, target, true);
    }
    if (roll < 0.78) {
      const target = this.pick(any);
      reserve(target.uid);
      return () => this.opDelete(user, target);
    }
    if (roll < 0.92) {
      const victims = this.ownRecords(this.other(user), busy);
      if (victims.length === 0) return this.opCreate(user, busy);
      const target = this.pick(victims);
      reserve(target.uid);
      return () => this.opCrossUser(user, target);
    }
    if (roll < 0.96) {
      const target = this.pick(any);
      reserve(target.uid);
      return () => this.opRace(user, target);
    }
    return () => this.opQueueAuto(user, alone);
  }

  // ── operations ────────────────────────────────────────────────────────────────────────────────────────────
  opCreate(user: string, busy: Set<string>): () => Promise<void> {
    const mediaType = this.pick(MEDIA);
    const roll = this.random();
    const reusable = this.deleted.filter((d) => !busy.has(d.uid) && !this.model.has(d.uid));
    if (roll < 0.25 && reusable.length > 0) {
      // A uid deleted before (by either user) can be used again, by anyone.
      const index = this.int(reusable.length);
      const { uid } = reusable[index] as { uid: string };
      busy.add(uid);
      return async () => {
        this.count('create-reuse-deleted');
        const made = await this.repository.create({ uid, mediaType }, this.scope(user));
        if (made.uid !== uid || made.userId !== user) this.fail(`re-created ${uid} came back as ${made.uid}`);
        this.deleted.splice(
          this.deleted.findIndex((d) => d.uid === uid),
          1,
        );
        this.model.set(uid, { uid, owner: user, mediaType, hasFile: false });
      };
    }
    const live = [...this.model.values()].filter((r) => !busy.has(r.uid));
    if (roll < 0.4 && live.length > 0) {
      // A live uid, someone else's or one's own: RECORD_EXISTS either way, with the same words, and nothing changes.
      const target = this.pick(live);
      busy.add(target.uid);
      return async () => {
        this.count('create-taken');
        const error = await this.expectError(
          () => this.repository.create({ uid: target.uid, mediaType }, this.scope(user)),
          'RECORD_EXISTS',
        );
        const said = `${error.message} ${JSON.stringify(error.details ?? {})}`;
        if (said.includes(target.owner) || said.includes(target.uid)) this.fail(`RECORD_EXISTS reveals: ${said}`);
      };
    }
    return async () => {
      this.count('create');
      const made = await this.repository.create({ mediaType }, this.scope(user));
      this.model.set(made.uid, { uid: made.uid, owner: user, mediaType, hasFile: false });
    };
  }

  payloadFor(mediaType: MediaType) {
    const name = this.pick(payloadFiles[mediaType]);
    return { name, ...(payloads.get(name) as { mediaType: MediaType; bytes: Uint8Array; sha: string }) };
  }

  upload(user: string, uid: string, bytes: Uint8Array, replace: boolean) {
    return storeUpload(uid, streamOf(bytes), {
      db: this.db,
      store: this.store,
      settings: this.settings,
      scope: this.scope(user),
      replace,
      compress: false,
    });
  }

  async opUpload(user: string, target: ModelRecord) {
    if (this.chance(0.1)) {
      // Content of another media type: refused, and the record is exactly as it was.
      this.count('upload-mismatch');
      const wrong = this.payloadFor(this.pick(MEDIA.filter((m) => m !== target.mediaType)));
      const before = await this.repository.get(target.uid, this.scope(user));
      await this.expectError(() => this.upload(user, target.uid, wrong.bytes, true), 'MEDIA_TYPE_MISMATCH');
      // Everything but updatedAt (a released claim moves it on, so an old reader's guarded claim fails).
      const { updatedAt: _a, ...after } = await this.repository.get(target.uid, this.scope(user));
      const { updatedAt: _b, ...was } = before;
      expect(after).toEqual(was);
      return;
    }
    const payload = this.payloadFor(target.mediaType);
    if (target.hasFile) {
      this.count('upload-has-file');
      await this.expectError(() => this.upload(user, target.uid, payload.bytes, false), 'RECORD_HAS_FILE');
      return;
    }
    this.count('upload');
    await this.uploadAndCheck(user, target, payload, false);
  }

  async opReplace(user: string, target: ModelRecord) {
    this.count('replace');
    await this.uploadAndCheck(user, target, this.payloadFor(target.mediaType), true);
  }

  async uploadAndCheck(
    user: string,
    target: ModelRecord,
    payload: { sha: string; bytes: Uint8Array },
    replace: boolean,
  ) {
    const { record, duplicateOf } = await this.upload(user, target.uid, payload.bytes, replace);
    if (duplicateOf) this.count('shared');
    if (record.sha256 !== payload.sha)
      this.fail(`upload to ${target.uid} recorded ${record.sha256}, sent ${payload.sha}`);
    target.hasFile = true;
    target.sha = payload.sha;
  }

  async opIngest(user: string) {
    this.count('ingest');
    const name = this.pick([...payloads.keys()]);
    const payload = payloads.get(name) as { mediaType: MediaType; sha: string };
    const result = await processUrl(`http://127.0.0.1:${origin.port}/${name}`, {
      db: this.db,
      store: this.store,
      settings: this.settings,
      userId: user,
      policy: { allowPrivate: true },
      compress: false,
      download: { retries: 0 },
    });
    if (result.duplicateOf) this.count('shared');
    if (result.sha256 !== payload.sha || result.mediaType !== payload.mediaType) {
      this.fail(`ingest of ${name} gave ${result.mediaType} ${result.sha256}`);
    }
    this.model.set(result.recordUid, {
      uid: result.recordUid,
      owner: user,
      mediaType: payload.mediaType,
      hasFile: true,
      sha: payload.sha,
    });
  }

  generator(user: string) {
    return new RecordFileGenerator({
      db: this.db,
      store: this.store,
      settings: this.settings,
      scope: this.scope(user),
    });
  }

  async opGenerate(user: string, target: ModelRecord, force: boolean) {
    this.count(force ? 'force-regenerate' : 'generate');
    // Few sizes, so a regeneration sometimes yields the very bytes the record has (generation is deterministic).
    const fileSizeKb = 2 + this.int(3);
    const result = await this.generator(user).generate(target.uid, { force, fileSizeKb });
    const expected = target.hasFile && !force ? 'skipped' : 'uploaded';
    if (result.outcome !== expected) this.fail(`generate ${target.uid} (force=${force}): ${result.outcome}`);
    if (expected === 'skipped' && target.sha && result.uploadResult?.sha256 !== target.sha) {
      this.fail(`skipped generation of ${target.uid} reports another file`);
    }
    target.hasFile = true;
    target.sha = result.uploadResult?.sha256 as string;
  }

  async opDelete(user: string, target: ModelRecord) {
    this.count('delete');
    const { record } = await deleteRecord(this.db, this.store, target.uid, this.scope(user));
    if (record.uid !== target.uid) this.fail(`deleted ${record.uid} instead of ${target.uid}`);
    this.model.delete(target.uid);
    this.deleted.push({ uid: target.uid, owner: user });
  }

  /** Every kind of access to someone else's record answers exactly as for a uid that does not exist. */
  async opCrossUser(user: string, target: ModelRecord) {
    this.count('cross-user');
    const scope = this.scope(user);
    const missing = crypto.randomUUID();
    const attempts: [string, (uid: string) => Promise<unknown>][] = [
      ['get', (uid) => this.repository.get(uid, scope)],
      ['upload', (uid) => this.upload(user, uid, this.payloadFor(target.mediaType).bytes, true)],
      ['generate', (uid) => this.generator(user).generate(uid, { force: true, fileSizeKb: 2 })],
      ['delete', (uid) => deleteRecord(this.db, this.store, uid, scope)],
      ['queue', (uid) => this.tasks.queueRecordGeneration({ uids: [uid], force: true, scope })],
    ];
    const before = await this.repository.get(target.uid, this.scope(target.owner));
    if ((await this.repository.find(target.uid, scope)) !== null) this.fail(`${user} finds ${target.uid}`);
    const [name, attempt] = this.pick(attempts);
    const foreign = await this.expectError(() => attempt(target.uid), 'RECORD_NOT_FOUND');
    const absent = await this.expectError(() => attempt(missing), 'RECORD_NOT_FOUND');
    if (!(foreign instanceof RecordNotFoundError)) this.fail(`${name} of a foreign uid: ${foreign.constructor.name}`);
    const shape = (e: FileProcessingError, uid: string) =>
      JSON.stringify({ n: e.constructor.name, m: e.message, d: e.details, t: e.transient }).replaceAll(uid, '<uid>');
    if (shape(foreign, target.uid) !== shape(absent, missing)) {
      this.fail(
        `${name}: a foreign uid answers ${shape(foreign, target.uid)}, a missing one ${shape(absent, missing)}`,
      );
    }
    const after = await this.repository.get(target.uid, this.scope(target.owner));
    if (JSON.stringify(after) !== JSON.stringify(before)) this.fail(`${user}'s ${name} changed ${target.uid}`);
  }

  /** Two replacing uploads of one record at once: each succeeds or is told RECORD_BUSY; the record has a winner's bytes. */
  async opRace(user: string, target: ModelRecord) {
    this.count('race');
    const contenders = [this.payloadFor(target.mediaType), this.payloadFor(target.mediaType)];
    const outcomes = await Promise.allSettled(contenders.map((p) => this.upload(user, target.uid, p.bytes, true)));
    const won: string[] = [];
    for (const [i, outcome] of outcomes.entries()) {
      if (outcome.status === 'fulfilled') won.push(contenders[i]?.sha as string);
      else if ((outcome.reason as FileProcessingError).code !== 'RECORD_BUSY') throw outcome.reason;
    }
    if (won.length === 0) this.fail(`both racing uploads to ${target.uid} lost`);
    const record = await this.repository.get(target.uid, this.scope(user));
    if (!won.includes(record.sha256 as string)) this.fail(`race on ${target.uid} left ${record.sha256}`);
    target.hasFile = true;
    target.sha = record.sha256 as string;
  }

  /** `auto` queues only the caller's records without a file. */
  async opQueueAuto(user: string, alone: boolean) {
    this.count('queue-auto');
    const scope = this.scope(user);
    const waiting = this.ownRecords(user, new Set(), (r) => !r.hasFile).map((r) => r.uid);
    let taskId: string;
    try {
      taskId = await this.tasks.queueRecordGeneration({ auto: { limit: 100 }, scope, fileSizeKb: 2 });
    } catch (error) {
      if ((error as FileProcessingError).code !== 'NOTHING_TO_DO') throw error;
      if (alone && waiting.length > 0) this.fail(`auto for ${user} found nothing, the model has ${waiting.length}`);
      return;
    }
    const items = (await this.tasks.listItems(taskId, scope, { limit: 1000 })).items;
    const queued = items.map((i) => (i.payload as { uid: string }).uid);
    const foreign = queued.filter((uid) => this.model.get(uid)?.owner !== user);
    if (foreign.length > 0) this.fail(`auto for ${user} queued records not theirs: ${foreign.join(', ')}`);
    // Alone, exactly the model's waiting records; in a batch, a record created meanwhile may join.
    const strays = queued.filter((uid) => !waiting.includes(uid));
    if (alone && strays.length > 0) this.fail(`auto for ${user} queued ${strays.join(', ')}`);
    if (alone && queued.length !== waiting.length)
      this.fail(`auto for ${user} queued ${queued.length}/${waiting.length}`);
    await this.tasks.cancelTask(taskId, scope);
  }

  async expectError(fn: () => Promise<unknown>, code: string): Promise<FileProcessingError> {
    try {
      await fn();
    } catch (error) {
      if (error instanceof FileProcessingError && error.code === code) return error;
      throw error;
    }
    return this.fail(`expected ${code}, but the operation succeeded`);
  }

  // ── invariants ────────────────────────────────────────────────────────────────────────────────────────────
  async checkInvariants() {
    if (this.checked.rewritten.length > 0) this.fail(`keys written twice: ${this.checked.rewritten.join(', ')}`);
    const violations: string[] = await usageViolations(this.db);
    const withFiles: RecordRow[] = await this.db.select().from(records).where(isNotNull(records.storageKey));
    const rows = await this.db.select().from(objects);
    const inStore = new Set(await allStoreKeys(this.store));
    const byKey = new Map(rows.map((r) => [r.key, r]));
    const refs = new Map<string, number>();
    for (const record of withFiles)
      refs.set(record.storageKey as string, (refs.get(record.storageKey as string) ?? 0) + 1);
    for (const record of withFiles) {
      const key = record.storageKey as string;
      const row = byKey.get(key);
      if (!row) violations.push(`record ${record.uid} → ${key}: no objects row`);
      else if (row.state !== 'live') violations.push(`record ${record.uid} → ${key} in state ${row.state}`);
      if (!inStore.has(key)) {
        violations.push(`record ${record.uid} → ${key}: missing from the store`);
        continue;
      }
      let sha = this.verified.get(key);
      if (sha === undefined) {
        sha = (await storedSha(this.store, key)) ?? 'missing';
        this.verified.set(key, sha);
      }
      if (sha !== record.sha256) violations.push(`record ${record.uid} → ${key}: bytes hash to ${sha}`);
    }
    for (const row of rows) {
      const expected = refs.get(row.key) ?? 0;
      if (row.refs !== expected) violations.push(`object ${row.key}: refs ${row.refs}, ${expected} records`);
      if (row.state === 'live' && row.refs > 0 && !inStore.has(row.key)) violations.push(`live ${row.key} missing`);
      if (row.state === 'deleted' && inStore.has(row.key)) violations.push(`deleted ${row.key} still in the store`);
    }
    for (const key of inStore) if (!byKey.has(key)) violations.push(`store key ${key} has no objects row`);
    // What each user sees is exactly the model's.
    for (const user of this.users) {
      const page = await this.repository.list(this.scope(user), { limit: 1000 });
      const seen = new Map(page.items.map((r) => [r.uid, r]));
      const expected = [...this.model.values()].filter((r) => r.owner === user);
      if (seen.size !== expected.length) violations.push(`${user} lists ${seen.size}, model has ${expected.length}`);
      for (const m of expected) {
        const r = seen.get(m.uid);
        if (!r) {
          violations.push(`${user} does not list ${m.uid}`);
          continue;
        }
        if (r.userId !== user || r.mediaType !== m.mediaType) violations.push(`${m.uid}: ${r.userId} ${r.mediaType}`);
        if ((r.storageKey !== null) !== m.hasFile)
          violations.push(`${m.uid}: has file ${r.storageKey}, model ${m.hasFile}`);
        if (m.sha && r.sha256 !== m.sha) violations.push(`${m.uid}: sha256 ${r.sha256}, model ${m.sha}`);
        const status = m.hasFile ? 'uploaded' : ['pending', 'failed'];
        if (r.claimToken !== null || !(Array.isArray(status) ? status.includes(r.status) : r.status === status)) {
          violations.push(`${m.uid}: status ${r.status}, claim ${r.claimToken}`);
        }
      }
      const others = [...this.model.values()].filter((r) => r.owner !== user);
      for (let i = 0; i < Math.min(3, others.length); i++) {
        const other = this.pick(others);
        if ((await this.repository.find(other.uid, this.scope(user))) !== null) {
          violations.push(`${user} finds ${other.owner}'s ${other.uid}`);
        }
      }
    }
    if (violations.length > 0) this.fail(`${violations.length} violations:\n  ${violations.slice(0, 20).join('\n  ')}`);
  }

  /** The sweep with no grace, then: every stored object is referenced or a complete leftover; nothing referenced went. */
  async finish() {
    await sweepObjects(this.db, this.store, { graceMs: 0 });
    this.verified.clear();
    await this.checkInvariants();
    const referenced = new Set(
      (await this.db.select().from(records).where(isNotNull(records.storageKey))).map((r) => r.storageKey as string),
    );
    const rows = new Map((await this.db.select().from(objects)).map((r) => [r.key, r]));
    const strays: string[] = [];
    for (const key of await allStoreKeys(this.store)) {
      const row = rows.get(key);
      if (referenced.has(key)) continue;
      if (row && row.state === 'live' && row.stored && row.refs === 0) continue;
      strays.push(`${key} (${row ? `${row.state}, stored=${row.stored}, refs=${row.refs}` : 'no row'})`);
    }
    if (strays.length > 0) this.fail(`after the sweep, unreferenced objects remain: ${strays.join(', ')}`);
  }
}
