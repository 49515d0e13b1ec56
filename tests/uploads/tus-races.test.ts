/**
 * TUS requests that race (the attacker's findings of 2026-11-28): a DELETE while the upload's last PATCH streams must
 * never answer 500, and an upload is either terminated or stored, never both; a creation-with-upload POST takes one of
 * the key's upload slots like a PATCH does (API_MAX_UPLOADS_PER_KEY).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { records } from '@mediaforge/core';
import { eq } from 'drizzle-orm';
import { serverWith, wavOfSize } from './tus-support.ts';

const TUS = { 'Tus-Resumable': '1.0.0' };

/** A body that sends `bytes` in 64 KiB pieces, one every `everyMs`. */
function trickle(bytes: Uint8Array, everyMs: number): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    async pull(controller) {
      if (offset >= bytes.byteLength) return controller.close();
      await Bun.sleep(everyMs);
      controller.enqueue(bytes.slice(offset, offset + 64 * 1024));
      offset += 64 * 1024;
    },
  });
}

const metadata = (pairs: Record<string, string>) =>
  Object.entries(pairs)
    .map(([k, v]) => `${k} ${Buffer.from(v).toString('base64')}`)
    .join(',');

describe('TUS races', () => {
  let deployment: Awaited<ReturnType<typeof serverWith>>;
  beforeAll(async () => {
    deployment = await serverWith({
      MAX_FILE_SIZE_MB: '4',
      API_MAX_UPLOADS_PER_KEY: '1',
      API_BODY_TIMEOUT_SECONDS: '1',
    });
  });
  afterAll(() => deployment.stop());

  const newRecord = async () => {
    const made = await fetch(`${deployment.base}/v1/records`, {
      method: 'POST',
      headers: { ...deployment.headers, 'Content-Type': 'application/json' },
      body: JSON.stringify({ mediaType: 'audio' }),
    });
    return ((await made.json()) as { uid: string }).uid;
  };
  const createUpload = async (uid: string, length: number) => {
    const made = await fetch(`${deployment.base}/v1/uploads`, {
      method: 'POST',
      headers: {
        ...TUS,
        ...deployment.headers,
        'Upload-Length': String(length),
        'Upload-Metadata': metadata({ recordUid: uid }),
      },
    });
    expect(made.status).toBe(201);
    return new URL(made.headers.get('location') ?? '', deployment.base).href;
  };
  /** A PATCH at `offset`; a stream body is sent as it comes (half duplex). */
  const patchAt = (location: string, offset: number, body: Uint8Array | ReadableStream<Uint8Array>) =>
    fetch(location, {
      method: 'PATCH',
      headers: {
        ...TUS,
        ...deployment.headers,
        'Upload-Offset': String(offset),
        'Content-Type': 'application/offset+octet-stream',
      },
      body,
      duplex: 'half',
    } as RequestInit);
  const recordOf = async (uid: string) =>
    (await deployment.database.db.select().from(records).where(eq(records.uid, uid)))[0];

  for (const afterMs of [0, 60, 250]) {
    test(`a DELETE ${afterMs} ms into the last PATCH: typed answers, and terminated or stored, never both`, async () => {
      const uid = await newRecord();
      const wav = wavOfSize(1024 * 1024, afterMs + 3);
      const location = await createUpload(uid, wav.byteLength);
      const patch = patchAt(location, 0, trickle(wav, 10));
      await Bun.sleep(afterMs);
      const deleted = await fetch(location, { method: 'DELETE', headers: { ...TUS, ...deployment.headers } });
      const patched = await patch.catch(() => undefined);
      expect(deleted.status).toBeLessThan(500);
      if (patched) expect(patched.status).toBeLessThan(500);
      const record = await recordOf(uid);
      if (deleted.status === 204) {
        // Terminated: the bytes were never stored.
        expect(record?.status).toBe('pending');
        expect(record?.sha256).toBeNull();
        if (patched) expect(patched.status).toBeGreaterThanOrEqual(400);
      } else {
        // The PATCH won: the DELETE was refused in the API's error shape and the file was stored whole.
        expect(((await deleted.json()) as { error: { code: string } }).error.code).toBe('UPLOAD_USED');
        expect(patched?.status).toBe(204);
        expect(record?.sha256).toBe(new Bun.CryptoHasher('sha256').update(wav).digest('hex'));
      }
      const staging = join(deployment.settings.home, 'objects', 'staging', 'tus');
      expect(existsSync(staging) ? readdirSync(staging).filter((f) => !f.startsWith('.')) : []).toEqual([]);
    });
  }

  test('a creation-with-upload POST takes one of the key’s upload slots, as a PATCH does', async () => {
    const uid = await newRecord();
    const slow = wavOfSize(1024 * 1024, 41);
    const holding = fetch(`${deployment.base}/v1/uploads`, {
      method: 'POST',
      headers: {
        ...TUS,
        ...deployment.headers,
        'Upload-Length': String(slow.byteLength),
        'Upload-Metadata': metadata({ recordUid: uid }),
        'Content-Type': 'application/offset+octet-stream',
      },
      body: trickle(slow, 40),
      duplex: 'half',
    } as RequestInit);
    await Bun.sleep(150);
    const other = await newRecord();
    const wav = wavOfSize(64 * 1024, 42);
    const second = await fetch(`${deployment.base}/v1/uploads`, {
      method: 'POST',
      headers: {
        ...TUS,
        ...deployment.headers,
        'Upload-Length': String(wav.byteLength),
        'Upload-Metadata': metadata({ recordUid: other }),
        'Content-Type': 'application/offset+octet-stream',
      },
      body: wav.slice(),
    });
    expect(second.status).toBe(429);
    expect(((await second.json()) as { error: { code: string } }).error.code).toBe('CONCURRENCY_LIMITED');
    expect((await holding).status).toBe(201);
    expect((await recordOf(uid))?.sha256).toBe(new Bun.CryptoHasher('sha256').update(slow).digest('hex'));
  });

  test('a PATCH body that stalls is answered 408 REQUEST_TIMEOUT (not a 400 abort), and the upload resumes', async () => {
    const uid = await newRecord();
    const wav = wavOfSize(64 * 1024, 43);
    const location = await createUpload(uid, wav.byteLength);
    const stalled = await patchAt(
      location,
      0,
      new ReadableStream({
        start(controller) {
          controller.enqueue(wav.slice(0, 10_000));
        },
      }),
    );
    expect(stalled.status).toBe(408);
    expect(((await stalled.json()) as { error: { code: string } }).error.code).toBe('REQUEST_TIMEOUT');
    const head = await fetch(location, { method: 'HEAD', headers: { ...TUS, ...deployment.headers } });
    const offset = Number(head.headers.get('upload-offset'));
    const rest = await patchAt(location, offset, wav.slice(offset));
    expect(rest.status).toBe(204);
    expect((await recordOf(uid))?.sha256).toBe(new Bun.CryptoHasher('sha256').update(wav).digest('hex'));
  });
});
