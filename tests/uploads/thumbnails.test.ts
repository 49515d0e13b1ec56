/**
 * Thumbnails through the API: images (sharp) and videos (ffmpeg) get a WebP of at most 256 px, decoded back here
 * with ffprobe and checked for size and aspect; it is its own write-once object, referenced by the record, served
 * owner-scoped, replaced with the file and deleted with the record. Audio has none.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { join } from 'node:path';
import { objects, records } from '@mediaforge/core';
import { describeBackends } from '@mediaforge/core/testing';
import { eq } from 'drizzle-orm';
import { createTestApi, errorOf, FIXTURES, type TestApi } from '../api/support.ts';

const fixture = (name: string) => Bun.file(join(FIXTURES, name));

/** Width, height and codec of an image or a video's first stream, as ffprobe reads them. */
async function probe(bytes: Uint8Array): Promise<{ codec: string; width: number; height: number }> {
  const child = Bun.spawn(
    [
      'ffprobe',
      '-v',
      'error',
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=codec_name,width,height',
      '-of',
      'json',
      '-',
    ],
    { stdin: bytes, stdout: 'pipe' },
  );
  const out = JSON.parse(await new Response(child.stdout).text()) as {
    streams: { codec_name: string; width: number; height: number }[];
  };
  const stream = out.streams[0];
  if (!stream) throw new Error('ffprobe found no picture');
  return { codec: stream.codec_name, width: stream.width, height: stream.height };
}

describeBackends('thumbnails', (backend) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi(backend.database(), { MAX_FILE_SIZE_MB: '5' });
  });
  afterAll(() => api.close());

  const upload = async (mediaType: string, name: string, query = '') => {
    const made = await api.call('POST', '/v1/records', { json: { mediaType } });
    const { uid } = (await made.json()) as { uid: string };
    const response = await api.call('POST', `/v1/records/${uid}/file${query}`, { body: fixture(name) });
    expect(response.status).toBe(201);
    return uid;
  };
  const thumbnailOf = async (uid: string) => {
    const response = await api.call('GET', `/v1/records/${uid}/thumbnail`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/webp');
    return new Uint8Array(await response.arrayBuffer());
  };

  for (const [mediaType, name] of [
    ['image', 'fixture.png'],
    ['image', 'fixture.jpg'],
    ['video', 'fixture.mp4'],
    ['video', 'fixture.webm'],
  ] as const) {
    test(`${name}: a WebP thumbnail at most 256 px with the source's aspect ratio`, async () => {
      const uid = await upload(mediaType, name);
      const source = await probe(await fixture(name).bytes());
      const thumb = await probe(await thumbnailOf(uid));
      expect(thumb.codec).toBe('webp');
      expect(Math.max(thumb.width, thumb.height)).toBeLessThanOrEqual(256);
      expect(Math.abs(thumb.width / thumb.height - source.width / source.height)).toBeLessThan(0.05);
      const [record] = await api.database.db.select().from(records).where(eq(records.uid, uid));
      expect(record?.thumbnailKey).toStartWith(`thumbnails/${uid}.`);
      expect(record?.metadata.thumbnail).toMatchObject({ key: record?.thumbnailKey, sourceSha256: record?.sha256 });
      const [object] = await api.database.db
        .select()
        .from(objects)
        .where(eq(objects.key, record?.thumbnailKey ?? ''));
      expect(object).toMatchObject({ refs: 1, state: 'live', contentType: 'image/webp', stored: true });
    });
  }

  test('a thumbnail that cannot be made (no ffmpeg on PATH) never fails the file', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    let uid: string;
    try {
      uid = await upload('video', 'fixture.mp4');
    } finally {
      process.env.PATH = path;
    }
    const [record] = await api.database.db.select().from(records).where(eq(records.uid, uid));
    expect(record).toMatchObject({ status: 'uploaded', thumbnailKey: null });
    expect(await errorOf(await api.call('GET', `/v1/records/${uid}/thumbnail`))).toMatchObject({ status: 404 });
  });

  test('owner-scoped: another user gets 404; audio has no thumbnail', async () => {
    const uid = await upload('image', 'fixture.png');
    const other = await api.call('GET', `/v1/records/${uid}/thumbnail`, { as: 'bob' });
    expect(await errorOf(other)).toMatchObject({ status: 404, code: 'RECORD_NOT_FOUND' });
    const audio = await upload('audio', 'fixture.wav');
    const none = await api.call('GET', `/v1/records/${audio}/thumbnail`);
    expect(await errorOf(none)).toMatchObject({ status: 404, code: 'FILE_NOT_FOUND' });
  });

  test('replacing the file replaces the thumbnail (the old object goes); deleting the record deletes it', async () => {
    const uid = await upload('image', 'fixture.png');
    const [before] = await api.database.db.select().from(records).where(eq(records.uid, uid));
    const first = before?.thumbnailKey as string;
    const replaced = await api.call('POST', `/v1/records/${uid}/file?replace=true`, { body: fixture('fixture.jpg') });
    expect(replaced.status).toBe(201);
    const [after] = await api.database.db.select().from(records).where(eq(records.uid, uid));
    expect(after?.thumbnailKey).not.toBe(first);
    const [old] = await api.database.db.select().from(objects).where(eq(objects.key, first));
    expect(old).toMatchObject({ refs: 0, state: 'deleted' });
    expect(await api.store.head(first)).toBeNull();
    const current = after?.thumbnailKey as string;
    expect((await api.call('DELETE', `/v1/records/${uid}`)).status).toBeLessThan(300);
    const [gone] = await api.database.db.select().from(objects).where(eq(objects.key, current));
    expect(gone).toMatchObject({ refs: 0, state: 'deleted' });
    expect(await api.store.head(current)).toBeNull();
  });
});
