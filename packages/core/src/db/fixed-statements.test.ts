/**
 * The batched statements with one fixed text (fixed-statements.ts): rows sent as one text array per column come back
 * as drizzle would return them, a conflict skips only its row, a text that is not valid Unicode inside an array is
 * refused like one outside it, and PGlite is left to drizzle.
 */
import { describe, expect, test } from 'bun:test';
import { eq, inArray } from 'drizzle-orm';
import { describeBackends } from '../testing/index.ts';
import { fixedInsert, jsonRows } from './fixed-statements.ts';
import { objects } from './schema.ts';

const KEYS = ['key', 'sha256', 'size', 'contentType', 'ownerId', 'recordUid'];
const insertObjects = fixedInsert<{ key: string; size: number; ownerId: string | null }>(objects, KEYS, 'key', [
  'key',
  'size',
  'ownerId',
]);

const row = (key: string, extra: Partial<Record<string, unknown>> = {}) => ({
  key,
  sha256: 'a'.repeat(64),
  size: 9_007_199_254_740_991,
  contentType: 'audio/wav',
  ownerId: null,
  recordUid: crypto.randomUUID(),
  ...extra,
});

describeBackends('fixed statements', (backend) => {
  const onPostgres = test.skipIf(backend.kind === 'pglite');
  const database = () => backend.database();

  onPostgres('rows go in whole, a conflicting key skips only its row, and the rest come back decoded', async () => {
    const prefix = `fixed-${crypto.randomUUID()}`;
    const first = await insertObjects(database().db, [row(`${prefix}/a`, { ownerId: 'o"ne' })]);
    expect(first).toEqual([{ key: `${prefix}/a`, size: 9_007_199_254_740_991, ownerId: 'o"ne' }]);
    const second = await insertObjects(database().db, [row(`${prefix}/a`), row(`${prefix}/b`, { ownerId: 'x,{y}' })]);
    expect(second).toEqual([{ key: `${prefix}/b`, size: 9_007_199_254_740_991, ownerId: 'x,{y}' }]);
    const held = await database()
      .db.select({ key: objects.key, ownerId: objects.ownerId })
      .from(objects)
      .where(inArray(objects.key, [`${prefix}/a`, `${prefix}/b`]));
    expect(held.sort((a, b) => a.key.localeCompare(b.key))).toEqual([
      { key: `${prefix}/a`, ownerId: 'o"ne' },
      { key: `${prefix}/b`, ownerId: 'x,{y}' },
    ]);
  });

  onPostgres('a text that is not valid Unicode in a row is refused (INVALID_INPUT); nothing is written', async () => {
    const key = `fixed-${crypto.randomUUID()}`;
    const refused = await insertObjects(database().db, [
      row(`${key}/ok`),
      row(`${key}/bad`, { ownerId: 'x\ud800' }),
    ]).then(
      () => undefined,
      (error: unknown) => error as { code?: string },
    );
    expect(refused?.code).toBe('INVALID_INPUT');
    expect(
      await database()
        .db.select()
        .from(objects)
        .where(eq(objects.key, `${key}/ok`)),
    ).toEqual([]);
  });

  test.skipIf(backend.kind === 'postgres')(
    'on PGlite they step aside (undefined), so the caller runs drizzle',
    async () => {
      expect(await insertObjects(database().db, [row('pglite/a')])).toBeUndefined();
    },
  );
});

describe('fixed statements before anything is sent', () => {
  test('a row that does not set exactly the statement columns is refused before anything is sent', () => {
    const rows = jsonRows(objects, KEYS, 1);
    const { recordUid: _dropped, ...missing } = row('k/missing');
    expect(() => rows.encode([row('k/ok'), missing])).toThrow(/does not set recordUid|other columns/);
    expect(() => rows.encode([{ ...row('k/extra'), refs: 2 }])).toThrow(/other columns/);
    expect(() => rows.encode([row('k/nan', { size: Number.NaN })])).toThrow(/size is NaN/);
    expect(JSON.parse(rows.encode([row('k/null')]))[0].ownerId).toBeNull();
  });
});
