/** `mediaforge migrate`: apply database migrations (automatic on the embedded database). */
import { openDatabaseFromSettings } from '@mediaforge/core';
import { defineCommand } from 'citty';
import { withContext } from '../context.ts';

export default defineCommand({
  meta: { name: 'migrate', description: 'Apply pending database migrations' },
  run: () =>
    withContext(async ({ settings, logger }) => {
      const database = await openDatabaseFromSettings(settings, { migrate: true });
      await database.close();
      logger.info({ backend: database.kind }, 'database schema is up to date');
      process.stdout.write(`migrations applied (${database.kind})\n`);
    }),
});
