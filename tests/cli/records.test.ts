import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { createTestPostgres, postgresProbe, skipPostgres, type TestPostgres } from '@mediaforge/core/testing';
import { runMediaforge, tempDir } from '../support/cli.ts';

/** The same CLI scenarios on the embedded default and on PostgreSQL. */
for (const backend of ['pglite', 'postgres'] as const) {
  describe.skipIf(backend === 'postgres' && skipPostgres)(`mediaforge records [${backend}]`, () => {
    let env: Record<string, string> = {};
    let server: TestPostgres | undefined;

    beforeAll(async () => {
      env = { MEDIAFORGE_HOME: join(tempDir(), 'home') };
      if (backend === 'postgres') {
        if (!postgresProbe.available) throw new Error(`PostgreSQL unreachable: ${postgresProbe.reason}`);
        server = await createTestPostgres();
        env.DATABASE_URL = server.url;
        const migrated = await runMediaforge(['migrate'], { env });
        expect(migrated.stderr).toBe('');
        expect(migrated.code).toBe(0);
      }
    });
    afterAll(async () => server?.drop());

    test('USER_MAX_RECORDS refuses creation past the cap; records usage shows the counts', async () => {
      const capped = { ...env, USER_MAX_RECORDS: '2' };
      const args = ['records', 'create', '--type', 'text', '--user', 'capped'];
      expect((await runMediaforge([...args, '--count', '2'], { env: capped })).code).toBe(0);
      const refused = await runMediaforge(args, { env: capped });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('QUOTA_EXCEEDED');
      const shown = await runMediaforge(['records', 'usage', '--user', 'capped', '--json'], { env: capped });
      expect(shown.code).toBe(0);
      expect(JSON.parse(shown.stdout)).toMatchObject({
        userId: 'capped',
        records: 2,
        storageBytes: 0,
        limits: { maxRecords: 2 },
      });
      const table = await runMediaforge(['records', 'usage', '--user', 'capped'], { env: capped });
      expect(table.stdout).toContain('RECORD LIMIT');
    });

    test('create, list and show', async () => {
      const created = await runMediaforge(
        ['records', 'create', '--type', 'audio', '--title', 'Sample', '--count', '3', '--user', 'u1'],
        { env },
      );
      expect(created.code).toBe(0);
      const uids = created.stdout.trim().split('\n');
      expect(uids).toHaveLength(3);
      expect(created.stderr).toContain('created 3 audio record(s)');

      const listed = await runMediaforge(['records', 'list', '--user', 'u1', '--type', 'audio', '--json'], { env });
      expect(listed.code).toBe(0);
      const page = JSON.parse(listed.stdout);
      expect(page.items.map((r: { uid: string }) => r.uid)).toEqual(uids);

      const table = await runMediaforge(['records', 'list', '--without-file', '--status', 'pending'], { env });
      expect(table.stdout.split('\n')[0]).toMatch(/^UID\s+TYPE\s+STATUS/);
      for (const uid of uids) expect(table.stdout).toContain(uid);

      const shown = await runMediaforge(['records', 'show', uids[0] as string, '--json'], { env });
      expect(JSON.parse(shown.stdout)).toMatchObject({
        uid: uids[0],
        mediaType: 'audio',
        title: 'Sample',
        status: 'pending',
      });
    });

    test('pagination through the CLI with --limit and --cursor', async () => {
      await runMediaforge(['records', 'create', '--type', 'text', '--count', '5', '--user', 'pager'], { env });
      const first = JSON.parse(
        (await runMediaforge(['records', 'list', '--user', 'pager', '--limit', '3', '--json'], { env })).stdout,
      );
      expect(first.items).toHaveLength(3);
      const second = JSON.parse(
        (
          await runMediaforge(
            ['records', 'list', '--user', 'pager', '--limit', '3', '--cursor', first.nextCursor, '--json'],
            { env },
          )
        ).stdout,
      );
      expect(second.items).toHaveLength(2);
      expect(second.nextCursor).toBeUndefined();
    });

    test('unknown and invalid uids: one clear line, non-zero exit', async () => {
      const missing = await runMediaforge(['records', 'show', '12345678-1234-5678-9012-123456789012'], { env });
      expect(missing.code).toBe(1);
      expect(missing.stderr.trim()).toBe(
        'error [RECORD_NOT_FOUND]: No record with UID 12345678-1234-5678-9012-123456789012; create it first (mediaforge records create).',
      );
      const invalid = await runMediaforge(['records', 'show', 'nope'], { env });
      expect(invalid.code).toBe(2);
      expect(invalid.stderr).toContain('[INVALID_UID]');
    });
  });
}

describe('mediaforge usage and configuration errors', () => {
  test('every command has --help', async () => {
    for (const path of [
      [],
      ['config'],
      ['migrate'],
      ['records'],
      ['records', 'create'],
      ['records', 'list'],
      ['records', 'show'],
    ]) {
      const result = await runMediaforge([...path, '--help']);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('USAGE');
      expect(result.stdout).not.toContain('\u001b[');
    }
  });

  test('usage errors exit 2 with one line', async () => {
    const cases = [
      ['records', 'create'],
      ['records', 'create', '--type', 'hologram'],
      ['records', 'create', '--type', 'audio', '--count', '0'],
      ['records', 'list', '--bogus'],
      ['records', 'list', '--status', 'nope'],
      ['frobnicate'],
    ];
    for (const args of cases) {
      const result = await runMediaforge(args, { env: { MEDIAFORGE_HOME: tempDir() } });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/error/);
    }
  });

  test('a bad setting names the variable and exits 2', async () => {
    const result = await runMediaforge(['records', 'list'], {
      env: { DATABASE_URL: 'nonsense', MAX_FILE_SIZE_MB: '-1' },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('DATABASE_URL must be a URL starting with postgres:');
    expect(result.stderr).toContain('MAX_FILE_SIZE_MB must be a positive number (got "-1")');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  test('config reads a .env file and masks secrets', async () => {
    const cwd = tempDir();
    await Bun.write(
      join(cwd, '.env'),
      'S3_SECRET_ACCESS_KEY=very-secret\nS3_ACCESS_KEY_ID=AKIAEXAMPLE\nMAX_FILE_SIZE_MB=7\nDATABASE_URL=postgres://u:pw123@db/app\nS3_ENDPOINT=http://127.0.0.1:9000\nS3_BUCKET=media\nS3_PUBLIC_BUCKET=true\n',
    );
    const result = await runMediaforge(['config', '--json'], { cwd });
    expect(result.code).toBe(0);
    const shown = JSON.parse(result.stdout);
    expect(shown.maxFileSizeMb).toBe(7);
    expect(shown.s3.secretAccessKey).toBe('****');
    // The S3 driver uses path style with any endpoint; config shows what is used, not the unset variable.
    expect(shown.s3.forcePathStyle).toBe(true);
    expect(shown.s3.endpoint).toBe('http://127.0.0.1:9000');
    // The public base URL records get, derived from the endpoint and path style.
    expect(shown.s3.publicUrl).toBe('http://127.0.0.1:9000/media');
    expect(shown.database).toBe('postgres://u:****@db/app');
    for (const secret of ['very-secret', 'AKIAEXAMPLE', 'pw123']) expect(result.stdout).not.toContain(secret);
  });

  test('an unreachable PostgreSQL is one clear error', async () => {
    const result = await runMediaforge(['records', 'list'], {
      env: { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/x' },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Cannot reach PostgreSQL at postgres://nobody@127.0.0.1:1/x');
  });

  test('--version prints the version', async () => {
    const result = await runMediaforge(['--version']);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
