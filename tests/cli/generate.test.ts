import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import {
  createTestPostgres,
  postgresProbe,
  requireTool,
  skipPostgres,
  type TestPostgres,
} from '@mediaforge/core/testing';
import { startS3Server, type TestS3Server } from '@mediaforge/storage/testing';
import { runMediaforge, tempDir } from '../support/cli.ts';

/** The seed's four commands on the embedded default (PGlite + local disk) and on PostgreSQL + S3 (s3rver). */
for (const backend of ['pglite', 'postgres'] as const) {
  describe.skipIf(backend === 'postgres' && skipPostgres)(`mediaforge generate [${backend}]`, () => {
    let env: Record<string, string> = {};
    let server: TestPostgres | undefined;
    let s3: TestS3Server | undefined;

    beforeAll(async () => {
      env = { MEDIAFORGE_HOME: join(tempDir(), 'home') };
      if (backend === 'postgres') {
        if (!postgresProbe.available) throw new Error(`PostgreSQL unreachable: ${postgresProbe.reason}`);
        server = await createTestPostgres();
        s3 = await startS3Server();
        env = { ...env, DATABASE_URL: server.url, ...s3.env };
        expect((await runMediaforge(['migrate'], { env })).code).toBe(0);
      }
    });
    afterAll(async () => {
      await server?.drop();
      await s3?.close();
    });

    const createRecords = async (type: string, count: number) => {
      const created = await runMediaforge(['records', 'create', '--type', type, '--count', String(count)], { env });
      expect(created.code).toBe(0);
      return created.stdout.trim().split('\n');
    };

    test('list, single, multiple and auto', async () => {
      const texts = await createRecords('text', 3);
      const images = await createRecords('image', 2);

      const listed = await runMediaforge(['generate', 'list', '--json'], { env });
      expect(listed.code).toBe(0);
      expect(JSON.parse(listed.stdout).records.map((r: { uid: string }) => r.uid)).toEqual([...texts, ...images]);

      const single = await runMediaforge(['generate', 'single', '--uid', texts[0] as string, '--size', '4'], { env });
      expect(single.code).toBe(0);
      expect(single.stdout).toContain(`text/${texts[0]}.txt`);
      expect(single.stderr).toContain('1 uploaded');

      const multiple = await runMediaforge(
        ['generate', 'multiple', '--uids', texts[1] as string, texts[2] as string, '--json'],
        { env },
      );
      expect(multiple.code).toBe(0);
      const batch = JSON.parse(multiple.stdout);
      expect(batch).toMatchObject({ processed: 2, successful: 2, failed: 0 });
      expect(batch.results[0].uploadResult.sha256).toMatch(/^[0-9a-f]{64}$/);

      const auto = await runMediaforge(['generate', 'auto', '--limit', '10'], { env });
      expect(auto.code).toBe(0);
      for (const uid of images) expect(auto.stdout).toContain(`image/${uid}.jpg`);

      const shown = await runMediaforge(['records', 'show', images[0] as string, '--json'], { env });
      const record = JSON.parse(shown.stdout);
      expect(record).toMatchObject({ status: 'uploaded', storageKey: `image/${images[0]}.jpg`, source: 'generated' });
      expect(record.fileUrl).toStartWith(backend === 'postgres' ? 's3://' : 'file://');

      const none = await runMediaforge(['generate', 'auto'], { env });
      expect(none.code).toBe(0);
      expect(none.stderr).toContain('no records without files');
    });

    test('invalid and unknown uids are reported by uid; the others still succeed; exit 1', async () => {
      const [good] = await createRecords('audio', 1);
      const missing = '01a1ff94-0000-7000-8000-000000000000';
      const result = await runMediaforge(
        ['generate', 'multiple', '--uids', `${good},not-a-uid,${missing}`, '--size', '4'],
        { env },
      );
      expect(result.code).toBe(1);
      expect(result.stdout).toContain(`audio/${good}.mp3`);
      expect(result.stderr).toContain('failed not-a-uid: INVALID_UID');
      expect(result.stderr).toContain(`failed ${missing}: RECORD_NOT_FOUND`);
    });

    test('--dry-run changes nothing', async () => {
      const [uid] = await createRecords('video', 1);
      const dry = await runMediaforge(['generate', 'single', '--uid', uid as string, '--dry-run'], { env });
      expect(dry.code).toBe(0);
      expect(dry.stdout).toContain('generate 15 KiB video');
      const listed = JSON.parse((await runMediaforge(['generate', 'list', '--json'], { env })).stdout);
      expect(listed.records.map((r: { uid: string }) => r.uid)).toContain(uid);
    });

    test('usage errors exit 2 before any work', async () => {
      const noUid = await runMediaforge(['generate', 'single'], { env });
      expect(noUid.code).toBe(2);
      const tooBig = await runMediaforge(['generate', 'auto', '--size', '999999'], {
        env: { ...env, MAX_FILE_SIZE_MB: '1' },
      });
      expect(tooBig.code).toBe(2);
      expect(tooBig.stderr).toContain('over MAX_FILE_SIZE_MB');
      const badRate = await runMediaforge(['generate', 'auto', '--rate', '0'], { env });
      expect(badRate.code).toBe(2);
    });
  });
}

describe('mediaforge demo (the quick start)', () => {
  const env = { MEDIAFORGE_HOME: join(tempDir(), 'home') };

  test('creates every media type, stores real media, verifies it, and is safe to re-run', async () => {
    const first = await runMediaforge(['demo', '--json'], { env });
    expect(first.code).toBe(0);
    const report = JSON.parse(first.stdout);
    expect(report.created).toBe(8);
    expect(new Set(report.records.map((r: { mediaType: string }) => r.mediaType))).toEqual(
      new Set(['text', 'audio', 'video', 'image']),
    );
    for (const record of report.records) {
      expect(record.verified).toBe(true);
      expect(record.location).toStartWith(join(env.MEDIAFORGE_HOME, 'objects'));
      // Independent oracles: `file` names the type, ffprobe decodes audio, video and images.
      const file = Bun.spawnSync([requireTool('file'), '--brief', '--mime-type', record.location])
        .stdout.toString()
        .trim();
      const expected = { text: 'text/plain', audio: 'audio/mpeg', video: 'video/mp4', image: 'image/jpeg' };
      expect(file).toBe(expected[record.mediaType as keyof typeof expected]);
      if (record.mediaType !== 'text') {
        const probe = Bun.spawnSync([requireTool('ffprobe'), '-v', 'error', '-show_format', record.location]);
        expect(probe.exitCode).toBe(0);
      }
    }

    const again = await runMediaforge(['demo'], { env });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('records: 0 created, 8 reused');
    expect(again.stderr).toContain('all 8 demo files are stored and verified');
  });
});
