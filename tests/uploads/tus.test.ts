/**
 * Resumable uploads (TUS 1.0 on /v1/uploads) on a real server: the real `tus-js-client` resumes after a TCP proxy
 * drops its connection mid-PATCH, and the finished upload is the record's verified file; hostile paths (over the
 * cap at creation and while deferred bytes arrive, someone else's upload, too many open uploads, bad bytes at
 * completion) are refused and leave nothing behind; termination and expiration remove the staged bytes.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { StartedServer } from '@mediaforge/api';
import { ApiKeyStore, type Database, records, type Settings } from '@mediaforge/core';
import { eq } from 'drizzle-orm';
import * as tus from 'tus-js-client';
import { FIXTURES } from '../api/support.ts';
import { serverWith, startCuttingProxy, startDeployment, wavOfSize } from './tus-support.ts';

const TUS = { 'Tus-Resumable': '1.0.0' };

describe('TUS resumable uploads', () => {
  let database: Database;
  let settings: Settings;
  let server: StartedServer;
  let keys: { alice: string; bob: string };
  let base: string;

  beforeAll(async () => {
    ({ settings, database, server, base } = await startDeployment({
      MAX_FILE_SIZE_MB: '4',
      TUS_MAX_UPLOADS_PER_USER: '3',
    }));
    const store = new ApiKeyStore(database.db);
    keys = {
      alice: (await store.create({ userId: 'alice' })).key,
      bob: (await store.create({ userId: 'bob' })).key,
    };
  });
  afterAll(async () => {
    await server?.stop(true);
    await database?.close();
  });

  const auth = (who: 'alice' | 'bob') => ({ Authorization: `Bearer ${keys[who]}` });
  const newRecord = async (mediaType: string) => {
    const response = await fetch(`${base}/v1/records`, {
      method: 'POST',
      headers: { ...auth('alice'), 'Content-Type': 'application/json' },
      body: JSON.stringify({ mediaType }),
    });
    return ((await response.json()) as { uid: string }).uid;
  };
  const metadata = (pairs: Record<string, string>) =>
    Object.entries(pairs)
      .map(([k, v]) => `${k} ${Buffer.from(v).toString('base64')}`)
      .join(',');
  const create = (headers: Record<string, string>, who: 'alice' | 'bob' = 'alice') =>
    fetch(`${base}/v1/uploads`, { method: 'POST', headers: { ...TUS, ...auth(who), ...headers } });
  const stagedFiles = () =>
    readdirSync(join(settings.home, 'objects', 'staging', 'tus')).filter((f) => !f.startsWith('.'));

  test('tus-js-client resumes after the connection is cut mid-upload; the record gets the verified file', async () => {
    const uid = await newRecord('audio');
    const wav = wavOfSize(2 * 1024 * 1024, 7);
    const proxy = startCuttingProxy(server.url, 700 * 1024);
    const errors: string[] = [];
    try {
      const recordUid = await new Promise<string>((resolve, reject) => {
        const upload = new tus.Upload(Buffer.from(wav), {
          endpoint: `${proxy.url}/v1/uploads`,
          headers: auth('alice'),
          metadata: { recordUid: uid, filename: 'tone.wav', filetype: 'audio/wav' },
          retryDelays: [100, 300, 1000, 2000, 4000],
          storeFingerprintForResuming: false,
          onShouldRetry: (error) => {
            errors.push(String(error.message).slice(0, 120));
            return true;
          },
          onError: reject,
          onSuccess: (payload) => resolve(payload.lastResponse.getHeader('Mediaforge-Record-Uid') ?? ''),
        });
        upload.start();
      });
      expect(recordUid).toBe(uid);
    } finally {
      proxy.stop();
    }
    expect(proxy.cuts).toBe(1);
    expect(errors.length).toBeGreaterThanOrEqual(1);
    // After the cut the client asked where to resume and sent only the rest.
    expect(proxy.requests.filter((r) => r.startsWith('HEAD /v1/uploads/')).length).toBeGreaterThanOrEqual(1);
    const patches = proxy.requests.filter((r) => r.startsWith('PATCH'));
    expect(patches.length).toBeGreaterThanOrEqual(2);
    // The first PATCH starts at 0; the one after the cut resumes where the server's bytes end, not from scratch.
    expect(proxy.patchOffsets[0]).toBe(0);
    // (How much arrived before the cut depends on the machine's load; any part of the file is a resume.)
    expect(proxy.patchOffsets.at(-1)).toBeGreaterThan(0);
    expect(proxy.patchOffsets.at(-1)).toBeLessThan(wav.byteLength);
    const [record] = await database.db.select().from(records).where(eq(records.uid, uid));
    expect(record).toMatchObject({ status: 'uploaded', fileSize: wav.byteLength, contentType: 'audio/wav' });
    expect(record?.sha256).toBe(new Bun.CryptoHasher('sha256').update(wav).digest('hex'));
    expect(stagedFiles()).toEqual([]);
  }, 60_000);

  test('Upload-Length over the cap is refused at creation; deferred lengths are cut off as bytes arrive', async () => {
    const uid = await newRecord('audio');
    const over = await create({
      'Upload-Length': String(5 * 1024 * 1024),
      'Upload-Metadata': metadata({ recordUid: uid }),
    });
    expect(over.status).toBe(413);
    const deferred = await create({ 'Upload-Defer-Length': '1', 'Upload-Metadata': metadata({ recordUid: uid }) });
    expect(deferred.status).toBe(201);
    const location = new URL(deferred.headers.get('location') ?? '', base).href;
    const patch = await fetch(location, {
      method: 'PATCH',
      headers: {
        ...TUS,
        ...auth('alice'),
        'Content-Type': 'application/offset+octet-stream',
        'Upload-Offset': '0',
      },
      body: new Uint8Array(4 * 1024 * 1024 + 1),
    });
    expect(patch.status).toBe(413);
    await fetch(location, { method: 'DELETE', headers: { ...TUS, ...auth('alice') } });
  });

  test("the protocol's own refusals come in the API's error shape; no CORS header unless configured", async () => {
    const uid = await newRecord('audio');
    const body = async (response: Response) => ((await response.json()) as { error: { code: string } }).error;
    const badLength = await create({ 'Upload-Length': 'abc', 'Upload-Metadata': metadata({ recordUid: uid }) });
    expect(badLength.status).toBe(400);
    expect(badLength.headers.get('tus-resumable')).toBe('1.0.0');
    expect(await body(badLength)).toMatchObject({ code: 'INVALID_HEADERS' });
    const noVersion = await fetch(`${base}/v1/uploads`, {
      method: 'POST',
      headers: { ...auth('alice'), 'Upload-Length': '10', Origin: 'https://elsewhere.example' },
    });
    expect(noVersion.status).toBe(412);
    expect(await body(noVersion)).toMatchObject({ code: 'INVALID_HEADERS' });
    // API_CORS_ORIGINS is not set: @tus/server's default `*` would let any page read the answers.
    expect(noVersion.headers.get('access-control-allow-origin')).toBeNull();
    const discovery = await fetch(`${base}/v1/uploads`, {
      method: 'OPTIONS',
      headers: { ...auth('alice'), Origin: 'https://elsewhere.example' },
    });
    expect([...discovery.headers.keys()].filter((name) => name.startsWith('access-control-'))).toEqual([]);
  });

  test("someone else's upload looks missing; a missing record or a record of another user cannot be the target", async () => {
    const uid = await newRecord('audio');
    const made = await create({ 'Upload-Length': '100', 'Upload-Metadata': metadata({ recordUid: uid }) });
    expect(made.status).toBe(201);
    const location = new URL(made.headers.get('location') ?? '', base).href;
    for (const method of ['HEAD', 'DELETE']) {
      const response = await fetch(location, { method, headers: { ...TUS, ...auth('bob') } });
      expect(response.status).toBe(404);
    }
    const bobPatch = await fetch(location, {
      method: 'PATCH',
      headers: { ...TUS, ...auth('bob'), 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': '0' },
      body: new Uint8Array(100),
    });
    expect(bobPatch.status).toBe(404);
    const head = await fetch(location, { method: 'HEAD', headers: { ...TUS, ...auth('alice') } });
    expect(head.headers.get('upload-offset')).toBe('0');
    const forBob = await create({ 'Upload-Length': '100', 'Upload-Metadata': metadata({ recordUid: uid }) }, 'bob');
    expect(forBob.status).toBe(404);
    const noRecord = await create({ 'Upload-Length': '100' });
    expect(noRecord.status).toBe(400);
    expect((await fetch(location, { method: 'DELETE', headers: { ...TUS, ...auth('alice') } })).status).toBe(204);
    expect((await fetch(location, { method: 'HEAD', headers: { ...TUS, ...auth('alice') } })).status).toBe(404);
  });

  test('per-user limit of open uploads: past TUS_MAX_UPLOADS_PER_USER creation gets 429', async () => {
    const uid = await newRecord('audio');
    const made: string[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await create({ 'Upload-Length': '100', 'Upload-Metadata': metadata({ recordUid: uid }) });
      expect(response.status).toBe(201);
      made.push(new URL(response.headers.get('location') ?? '', base).href);
    }
    const fourth = await create({ 'Upload-Length': '100', 'Upload-Metadata': metadata({ recordUid: uid }) });
    expect(fourth.status).toBe(429);
    expect(((await fourth.json()) as { error: { code: string } }).error.code).toBe('UPLOAD_LIMIT');
    for (const location of made) await fetch(location, { method: 'DELETE', headers: { ...TUS, ...auth('alice') } });
    const again = await create({ 'Upload-Length': '100', 'Upload-Metadata': metadata({ recordUid: uid }) });
    expect(again.status).toBe(201);
    await fetch(new URL(again.headers.get('location') ?? '', base), {
      method: 'DELETE',
      headers: { ...TUS, ...auth('alice') },
    });
  });

  test('bad bytes at completion: 422, the staged bytes are removed and the record is untouched', async () => {
    const uid = await newRecord('image');
    const png = await Bun.file(join(FIXTURES, 'fixture.png')).bytes();
    const broken = png.slice(0, Math.floor(png.byteLength / 2));
    const made = await create({
      'Upload-Length': String(broken.byteLength),
      'Upload-Metadata': metadata({ recordUid: uid, filetype: 'image/png' }),
    });
    const location = new URL(made.headers.get('location') ?? '', base).href;
    const patch = await fetch(location, {
      method: 'PATCH',
      headers: { ...TUS, ...auth('alice'), 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': '0' },
      body: broken,
    });
    expect(patch.status).toBe(422);
    expect(((await patch.json()) as { error: { code: string } }).error.code).toBe('INTEGRITY_ERROR');
    const [record] = await database.db.select().from(records).where(eq(records.uid, uid));
    expect(record).toMatchObject({ status: 'pending', storageKey: null, claimToken: null });
    expect(stagedFiles()).toEqual([]);
  });

  test('creation-with-upload: a POST carrying the whole file answers 201 with Upload-Offset; bad bytes get JSON', async () => {
    const uid = await newRecord('audio');
    const wav = wavOfSize(64 * 1024, 11).slice();
    const body = (bytes: Uint8Array, filetype: string) => ({
      'Upload-Length': String(bytes.byteLength),
      'Upload-Metadata': metadata({ recordUid: uid, filetype }),
      'Content-Type': 'application/offset+octet-stream',
    });
    const made = await fetch(`${base}/v1/uploads`, {
      method: 'POST',
      headers: { ...TUS, ...auth('alice'), ...body(wav, 'audio/wav') },
      body: wav,
    });
    expect(made.status).toBe(201);
    expect(made.headers.get('upload-offset')).toBe(String(wav.byteLength));
    expect(made.headers.get('mediaforge-record-uid')).toBe(uid);
    const location = new URL(made.headers.get('location') ?? '', base).href;
    expect(location).toStartWith(`${base}/v1/uploads/`);
    const [record] = await database.db.select().from(records).where(eq(records.uid, uid));
    expect(record?.sha256).toBe(new Bun.CryptoHasher('sha256').update(wav).digest('hex'));
    expect(stagedFiles()).toEqual([]);
    expect((await fetch(location, { method: 'HEAD', headers: { ...TUS, ...auth('alice') } })).status).toBe(404);

    const png = await Bun.file(join(FIXTURES, 'fixture.png')).bytes();
    const broken = png.slice(0, Math.floor(png.byteLength / 2));
    const bad = await fetch(`${base}/v1/uploads`, {
      method: 'POST',
      headers: { ...TUS, ...auth('alice'), ...body(broken, 'image/png') },
      body: broken,
    });
    expect(bad.status).toBeGreaterThanOrEqual(400);
    expect(bad.headers.get('content-type')).toContain('application/json');
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBeString();
    const [after] = await database.db.select().from(records).where(eq(records.uid, uid));
    expect(after?.sha256).toBe(record?.sha256 ?? '');
    expect(stagedFiles()).toEqual([]);
  });

  test('tus-js-client with uploadDataDuringCreation finishes in one POST', async () => {
    const uid = await newRecord('audio');
    const wav = wavOfSize(32 * 1024, 12);
    const recordUid = await new Promise<string>((resolve, reject) => {
      new tus.Upload(Buffer.from(wav), {
        endpoint: `${base}/v1/uploads`,
        headers: auth('alice'),
        metadata: { recordUid: uid, filetype: 'audio/wav' },
        uploadDataDuringCreation: true,
        storeFingerprintForResuming: false,
        retryDelays: [],
        onError: reject,
        onSuccess: (payload) => resolve(payload.lastResponse.getHeader('Mediaforge-Record-Uid') ?? ''),
      }).start();
    });
    expect(recordUid).toBe(uid);
    const [record] = await database.db.select().from(records).where(eq(records.uid, uid));
    expect(record?.sha256).toBe(new Bun.CryptoHasher('sha256').update(wav).digest('hex'));
  });
});

describe('TUS expiration', () => {
  test('an upload not finished in TUS_EXPIRY_HOURS is gone (410), and its bytes are swept', async () => {
    const deployment = await serverWith({ TUS_EXPIRY_HOURS: '0.0005' });
    try {
      const create = () =>
        fetch(`${deployment.base}/v1/uploads`, {
          method: 'POST',
          headers: {
            ...TUS,
            ...deployment.headers,
            'Upload-Length': '1000',
            'Upload-Metadata': `recordUid ${Buffer.from(deployment.uid).toString('base64')}`,
          },
        });
      const made = await create();
      expect(made.status).toBe(201);
      expect(made.headers.get('upload-expires')).toBeTruthy();
      const location = new URL(made.headers.get('location') ?? '', deployment.base).href;
      const patch = (offset: number) =>
        fetch(location, {
          method: 'PATCH',
          headers: {
            ...TUS,
            ...deployment.headers,
            'Content-Type': 'application/offset+octet-stream',
            'Upload-Offset': String(offset),
          },
          body: new Uint8Array(400),
        });
      expect((await patch(0)).status).toBe(204);
      await Bun.sleep(2_200);
      expect((await patch(400)).status).toBe(410);
      const dir = join(deployment.settings.home, 'objects', 'staging', 'tus');
      expect(readdirSync(dir).length).toBeGreaterThan(0);
      // The next creation sweeps what expired.
      expect((await create()).status).toBe(201);
      await Bun.sleep(300);
      const id = location.split('/').pop() as string;
      expect(readdirSync(dir).filter((name) => name.startsWith(id))).toEqual([]);
    } finally {
      await deployment.stop();
    }
  }, 30_000);
});
