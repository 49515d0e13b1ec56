import { expect, test } from 'bun:test';
import { join } from 'node:path';
import { ApiKeyStore, openDatabase } from '@mediaforge/core';
import { runMediaforge, tempDir } from '../support/cli.ts';

test('keys create | list | revoke on the embedded database; the key verifies until revoked', async () => {
  const home = tempDir();
  const env = { MEDIAFORGE_HOME: home };
  const created = await runMediaforge(['keys', 'create', '--user', 'alice', '--name', 'laptop', '--json'], { env });
  expect(created.code).toBe(0);
  const made = JSON.parse(created.stdout) as { key: string; id: string; userId: string; admin: boolean };
  expect(made).toMatchObject({ userId: 'alice', admin: false });
  expect(made.key).toStartWith(`mfk_${made.id}_`);

  const listed = JSON.parse((await runMediaforge(['keys', 'list', '--json'], { env })).stdout) as object[];
  expect(listed).toHaveLength(1);
  // The secret is base64url and may itself contain '_': take everything after the id.
  expect(JSON.stringify(listed)).not.toContain(made.key.slice(`mfk_${made.id}_`.length));

  const invalid = await runMediaforge(['keys', 'create', '--user', 'no spaces allowed'], { env });
  expect(invalid.code).toBe(1);
  expect(invalid.stderr).toContain('VALIDATION_ERROR');

  expect((await runMediaforge(['keys', 'revoke', made.id], { env })).code).toBe(0);
  expect(JSON.parse((await runMediaforge(['keys', 'list', '--json'], { env })).stdout)).toEqual([]);
  const unknown = await runMediaforge(['keys', 'revoke', '000000000000'], { env });
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toContain('API_KEY_NOT_FOUND');

  const database = await openDatabase({ dataDir: join(home, 'db') });
  try {
    expect(await new ApiKeyStore(database.db).verify(made.key)).toBeNull();
    // While this process holds the embedded database, another process is refused instead of losing writes.
    const refused = await runMediaforge(['keys', 'list'], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`in use by process ${process.pid}`);
  } finally {
    await database.close();
  }
  expect((await runMediaforge(['keys', 'list'], { env })).code).toBe(0);
});
