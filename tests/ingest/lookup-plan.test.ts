/**
 * The batched reuse lookup (object-batches.ts) is one prepared text, so PostgreSQL plans it once for every batch,
 * from the statistics of that moment. A table that grew since (an ingest into a new database) must still be probed
 * per file in the (owner, sha256) index, never scanned: the plain `= any(…)` form was planned as a scan of every
 * live object, filtered, which made each file's lookup cost as much as everything already stored.
 */
import { expect, test } from 'bun:test';
import { describeBackends, planNodes } from '@mediaforge/core/testing';
import { sql } from 'drizzle-orm';
import { LOOKUP_TEXT } from '../../packages/core/src/files/object-batches.ts';

describeBackends('the batched reuse lookup', (backend) => {
  test.skipIf(backend.kind === 'pglite')(
    'probes the index per file when the statistics say the table is empty',
    async () => {
      const { db } = backend.database();
      // Statistics of the empty table, then 20,000 live objects (half owned by one user) they know nothing of.
      await db.execute(sql`analyze objects`);
      await db.execute(sql`
      insert into objects (key, sha256, size, content_type, owner_id, record_uid, refs, stored)
      select 'audio/' || g || '.wav', md5(g::text), 1, 'audio/wav', case when g % 2 = 0 then 'big' end,
             gen_random_uuid(), 1, true
      from generate_series(1, 20000) g`);
      const wanted = (n: number) => `'${n}'`;
      const plan = await db.transaction(async (tx) => {
        await tx.execute(sql`set local plan_cache_mode = force_generic_plan`);
        await tx.execute(sql.raw(`prepare lookup as ${LOOKUP_TEXT}`));
        const result = (await tx.execute(
          sql.raw(
            `explain (analyze, format json) execute lookup(array['big', 'big']::text[], array[md5(${wanted(2)}), md5('none')]::text[], ` +
              `array[md5(${wanted(3)}), md5('nothing')]::text[], array[gen_random_uuid()]::uuid[])`,
          ),
        )) as unknown as { 'QUERY PLAN': unknown }[];
        await tx.execute(sql`deallocate lookup`);
        return result[0]?.['QUERY PLAN'];
      });
      const nodes = planNodes(plan);
      const scans = nodes.filter((node) => String(node['Node Type']).includes('Scan') && node['Relation Name']);
      expect(scans.length).toBeGreaterThan(0);
      for (const scan of scans) {
        expect(scan['Index Name']).toBe('objects_dedupe_idx');
        expect(String(scan['Index Cond'])).toContain('sha256');
      }
      // Rows read and thrown away: a scan of the live objects would discard ~20,000.
      const discarded = nodes.reduce(
        (sum, node) =>
          sum +
          (Number(node['Rows Removed by Filter'] ?? 0) + Number(node['Rows Removed by Join Filter'] ?? 0)) *
            Number(node['Actual Loops'] ?? 1),
        0,
      );
      expect(discarded).toBeLessThan(10);
      const found = nodes[0]?.['Actual Rows'];
      expect(found).toBe(2);
    },
  );
});
