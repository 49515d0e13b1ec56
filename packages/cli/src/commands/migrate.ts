/** `mediaforge migrate`: apply database migrations (automatic on the embedded database). */
import { openDatabaseFromSettings } from '@mediaforge/core/database';
import { defineCommand } from 'citty';
import { withContext } from '../context.ts';

export default defineCommand({
  meta: { name: 'migrate', description: 'Apply pending database migrations' },
  run: () =>
    withContext(async (ctx) => {
      const database = await openDatabaseFromSettings(ctx.settings, { migrate: true });
      await database.close();
      (await ctx.logger()).info({ backend: database.kind }, 'database schema is up to date');
      process.stdout.write(`migrations applied (${database.kind})\n`);
    }),
});
