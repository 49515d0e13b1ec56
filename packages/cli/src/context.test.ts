import { expect, test } from 'bun:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withContext } from './context.ts';

// `release()` gives the embedded database back before a command prints (issue 21): the handle it closed refuses work,
// a later `database()` opens it again, and the context's own end closes that one.
test('release closes the database now; a later database() reopens it', async () => {
  const home = mkdtempSync(join(tmpdir(), 'mediaforge-context-'));
  const previous = { home: process.env.MEDIAFORGE_HOME, url: process.env.DATABASE_URL };
  process.env.MEDIAFORGE_HOME = home;
  delete process.env.DATABASE_URL;
  try {
    await withContext(async (ctx) => {
      const first = await ctx.database();
      await first.migrate();
      await ctx.release();
      await expect(first.migrate()).rejects.toThrow();
      await ctx.release(); // twice is fine
      const second = await ctx.database();
      expect(second).not.toBe(first);
      expect((await (await ctx.records()).list({ all: true })).items).toEqual([]);
    });
  } finally {
    if (previous.home === undefined) delete process.env.MEDIAFORGE_HOME;
    else process.env.MEDIAFORGE_HOME = previous.home;
    if (previous.url !== undefined) process.env.DATABASE_URL = previous.url;
  }
}, 60_000);
