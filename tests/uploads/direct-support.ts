/**
 * Helpers for the direct-upload tests: records, upload tickets, a token PUT held mid-body, a store that holds a
 * completion where it reads the staged bytes, uploads moved past their expiry, and an API on s3rver (presigned PUTs).
 */
import { expect } from 'bun:test';
import { join } from 'node:path';
import { openDatabase, type StagedUploadState, stagedUploads } from '@mediaforge/core';
import { createFileStore, createS3Store, type ObjectStore } from '@mediaforge/storage';
import { S3RVER_CREDENTIALS, startS3Server, type TestS3Server } from '@mediaforge/storage/testing';
import { eq, inArray } from 'drizzle-orm';
import { createTestApi, FIXTURES, type TestApi } from '../api/support.ts';

export const fixture = (name: string) => Bun.file(join(FIXTURES, name));

export interface Ticket {
  uploadId: string;
  url: string;
  headers: Record<string, string>;
  kind: string;
  maxSize: number;
}

export async function createRecord(api: TestApi, mediaType: string, as: 'alice' | 'bob' = 'alice') {
  const response = await api.call('POST', '/v1/records', { as, json: { mediaType } });
  expect(response.status).toBe(201);
  return (await response.json()) as { uid: string; userId: string };
}

export async function ticketFor(api: TestApi, uid: string, json: unknown = {}, as: 'alice' | 'bob' = 'alice') {
  const response = await api.call('POST', `/v1/records/${uid}/upload-url`, { as, json });
  expect(response.status).toBe(201);
  return (await response.json()) as Ticket;
}

/** A token PUT of a PNG to a new image record of alice's, held after its first 100 bytes until `release`. */
export async function heldPut(api: TestApi) {
  const { uid } = await createRecord(api, 'image');
  const ticket = await ticketFor(api, uid);
  const png = await fixture('fixture.png').bytes();
  const { body, release } = heldAfter(png, 100);
  const put = api.call('PUT', ticket.url, { body, headers: { 'content-length': String(png.byteLength) } });
  return { uid, ticket, put, release };
}

/** A body that sends the first `at` bytes of `bytes`, then the rest once `release` is called. */
export function heldAfter(bytes: Uint8Array, at: number): { body: ReadableStream<Uint8Array>; release: () => void } {
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(bytes.slice(0, at));
      await held;
      controller.enqueue(bytes.slice(at));
      controller.close();
    },
  });
  return { body, release: () => release() };
}

export async function stagedKeys(api: TestApi): Promise<string[]> {
  return (await api.store.list('staging/')).items.map((item) => item.key);
}

/** Waits (up to 2 s) until upload `id` is in `state`, e.g. a held PUT has begun (`receiving`). */
export async function untilState(api: TestApi, id: string, state: StagedUploadState): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const [row] = await api.database.db.select().from(stagedUploads).where(eq(stagedUploads.id, id));
    if (row?.state === state) return;
    await Bun.sleep(20);
  }
  throw new Error(`upload ${id} never reached ${state}`);
}

/** Moves the uploads' expiry `msAgo` into the past, as if that much time had gone by since. */
export async function expire(api: TestApi, ids: string[], msAgo: number): Promise<void> {
  await api.database.db
    .update(stagedUploads)
    .set({ expiresAt: new Date(Date.now() - msAgo) })
    .where(inArray(stagedUploads.id, ids));
}

/** A local store whose reads of staged bytes wait while held: a completion stopped once it is `completing`. */
export function storeHoldingCompletions(root: string): { store: ObjectStore; hold(): void; release(): void } {
  const store = createFileStore({ root });
  let gate: Promise<void> | undefined;
  let open = () => {};
  return {
    store: {
      ...store,
      get: async (key, options) => {
        if (gate && key.startsWith('staging/')) await gate;
        return store.get(key, options);
      },
    },
    hold() {
      gate = new Promise((resolve) => {
        open = resolve;
      });
    },
    release() {
      gate = undefined;
      open();
    },
  };
}

/** An API on its own PGlite database whose store is an s3rver bucket, so upload URLs are presigned PUTs. */
export async function startPresignedApi(
  bucket: string,
  env: Record<string, string>,
): Promise<{ api: TestApi; s3: TestS3Server; close(): Promise<void> }> {
  const s3 = await startS3Server({ bucket });
  const store = createS3Store({ bucket: s3.bucket, endpoint: s3.endpoint, region: 'us-east-1', ...S3RVER_CREDENTIALS });
  const database = await openDatabase();
  await database.migrate();
  const api = await createTestApi(database, { ...s3.env, ...env }, store);
  return {
    api,
    s3,
    async close() {
      await api.close();
      await database.close();
      await s3.close();
    },
  };
}
