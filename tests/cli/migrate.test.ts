import { expect, test } from 'bun:test';
import { createTestPostgres, skipPostgres } from '@mediaforge/core/testing';
import { runMediaforge, tempDir } from '../support/cli.ts';

test.skipIf(skipPostgres)(
  'on an unmigrated PostgreSQL, commands say to run `mediaforge migrate`; after it they work',
  async () => {
    const database = await createTestPostgres();
    try {
      const env = { MEDIAFORGE_HOME: tempDir(), DATABASE_URL: database.url };
      const before = await runMediaforge(['records', 'list'], { env });
      expect(before.code).toBe(1);
      expect(before.stderr).toContain('DATABASE_ERROR');
      expect(before.stderr).toContain('mediaforge migrate');
      expect(before.stderr).not.toContain('Failed query');
      expect((await runMediaforge(['migrate'], { env })).code).toBe(0);
      const after = await runMediaforge(['records', 'list', '--json'], { env });
      expect(after.code).toBe(0);
    } finally {
      await database.drop();
    }
  },
);
