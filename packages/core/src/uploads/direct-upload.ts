/**
 * Direct uploads: the client puts the bytes into storage itself (a presigned PUT on S3, or a one-time upload token
 * on the API for stores that cannot presign), at a staging key that is never a record's key; completing the upload
 * runs the staged bytes through the one file pipeline (claim, detect, validate, hash, dedupe, write-once key). The
 * staged object is deleted whatever the outcome, and a file that fails verification leaves the record untouched.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from '../db/database.ts';
import { FileProcessingError, FileSizeExceededError } from '../errors.ts';
import type { FileStore } from '../files/file-store.ts';
import { sizeCap } from '../files/size-cap.ts';
import { type RecordUploadResult, storeUpload, type UploadContext } from '../ingest/upload.ts';
import { RecordRepository } from '../records/repository.ts';
import type { Scope } from '../scope.ts';
import { newUid, parseUid } from '../uid.ts';
import {
  deleteStagedUpload,
  getStagedUpload,
  insertStagedUploadWithin,
  moveStagedUpload,
  type OpenUploadLimit,
  staleStagedUploads,
  uploadNotFound,
  uploadUsed,
} from './staged-uploads.ts';

/** A store that can hand out presigned PUT URLs (S3). Stores without it get one-time upload tokens. */
export interface PresigningStore extends FileStore {
  signedUploadUrl?(
    key: string,
    options: { expiresIn: number; contentLength: number; contentType?: string },
  ): Promise<string>;
}

export interface DirectUploadTicket {
  uploadId: string;
  method: 'PUT';
  /** Absolute for a presigned URL; a path on this API (`/v1/direct-uploads/{token}`) for an upload token. */
  url: string;
  /** Headers the PUT must carry (a presigned URL is signed for its Content-Length). */
  headers: Record<string, string>;
  kind: 'presigned' | 'token';
  expiresAt: Date;
  maxSize: number;
}

export interface IssueOptions {
  scope: Scope;
  maxFileSizeBytes: number;
  expiresInSeconds: number;
  /** Open uploads the record's owner may hold at once, TUS included (TUS_MAX_UPLOADS_PER_USER). */
  openUploads: OpenUploadLimit;
  /** The file's size in bytes: required for a presigned URL (S3 checks it), optional for a token. */
  size?: number;
  contentType?: string;
}

/** Issues a staging place for record `uid`'s file. @throws RecordNotFoundError, FILE_SIZE_EXCEEDED, INVALID_SIZE, UPLOAD_LIMIT */
export async function issueDirectUpload(
  db: Db,
  store: PresigningStore,
  uid: string,
  options: IssueOptions,
): Promise<DirectUploadTicket> {
  const record = await new RecordRepository(db).get(parseUid(uid), options.scope);
  const cap = options.maxFileSizeBytes;
  if (options.size !== undefined && (!Number.isInteger(options.size) || options.size <= 0)) {
    throw new FileProcessingError('`size` must be a whole number of bytes above 0.', 'INVALID_SIZE');
  }
  if (options.size !== undefined && options.size > cap) throw new FileSizeExceededError(cap, options.size, 'Upload');
  const id = newUid();
  const stagingKey = `staging/${id}`;
  const expiresAt = new Date(Date.now() + options.expiresInSeconds * 1000);
  const base = { id, recordUid: record.uid, userId: record.userId, stagingKey, expiresAt };
  if (store.signedUploadUrl) {
    if (options.size === undefined) {
      throw new FileProcessingError(
        'A presigned upload needs the file size in bytes (`size`): the URL is signed for exactly that length.',
        'INVALID_SIZE',
      );
    }
    const url = await store.signedUploadUrl(stagingKey, {
      expiresIn: options.expiresInSeconds,
      contentLength: options.size,
      ...(options.contentType ? { contentType: options.contentType } : {}),
    });
    await insertStagedUploadWithin(db, { ...base, kind: 'presigned', maxSize: options.size }, options.openUploads);
    const headers: Record<string, string> = { 'Content-Length': String(options.size) };
    if (options.contentType) headers['Content-Type'] = options.contentType;
    return { uploadId: id, method: 'PUT', url, headers, kind: 'presigned', expiresAt, maxSize: options.size };
  }
  const secret = randomBytes(32).toString('base64url');
  const maxSize = options.size ?? cap;
  await insertStagedUploadWithin(
    db,
    { ...base, kind: 'token', tokenHash: hashToken(secret), maxSize },
    options.openUploads,
  );
  return {
    uploadId: id,
    method: 'PUT',
    url: `/v1/direct-uploads/${id}.${secret}`,
    headers: {},
    kind: 'token',
    expiresAt,
    maxSize,
  };
}

/**
 * Receives a one-time-token PUT into the staging key, refusing it as soon as it passes the upload's size bound.
 * @throws UPLOAD_NOT_FOUND (bad or someone else's token), UPLOAD_USED (second use), FILE_SIZE_EXCEEDED
 */
export async function receiveTokenUpload(
  db: Db,
  store: FileStore,
  token: string,
  body: ReadableStream<Uint8Array>,
  options: { scope: Scope; declaredLength?: number; signal?: AbortSignal },
): Promise<{ uploadId: string; size: number }> {
  const [id = '', secret = ''] = token.split('.', 2);
  const row = await getStagedUpload(db, id, options.scope);
  if (row.kind !== 'token' || !row.tokenHash || !sameHash(row.tokenHash, hashToken(secret))) throw uploadNotFound(id);
  if (row.expiresAt.getTime() < Date.now()) throw uploadUsed(id, row.state);
  if (options.declaredLength !== undefined && options.declaredLength > row.maxSize) {
    throw new FileSizeExceededError(row.maxSize, options.declaredLength, 'Upload');
  }
  if (!(await moveStagedUpload(db, id, ['issued'], 'receiving'))) throw uploadUsed(id, row.state);
  let size = 0;
  let overflow: FileSizeExceededError | undefined;
  const capped = body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        size += chunk.byteLength;
        overflow = size > row.maxSize ? new FileSizeExceededError(row.maxSize, size, 'Upload') : undefined;
        if (overflow) controller.error(overflow);
        else controller.enqueue(chunk);
      },
    }),
  );
  try {
    await store.put(row.stagingKey, capped, {
      contentType: 'application/octet-stream',
      metadata: { staged_upload: id, record_uid: row.recordUid },
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    await store.delete(row.stagingKey).catch(() => {});
    await moveStagedUpload(db, id, ['receiving'], 'failed');
    // The store reports the cut-off body as its own failure; the reason is the size bound.
    throw overflow ?? error;
  }
  if (!(await moveStagedUpload(db, id, ['receiving'], 'received'))) {
    // The upload was cancelled, or swept (it outlived its expiry and the sweep's grace), while this PUT was still
    // arriving: nothing counts or removes these staged bytes any more but this request.
    await store.delete(row.stagingKey).catch(() => {});
    throw new FileProcessingError(
      `Upload ${id} was cancelled, or expired and was removed, while its body was still arriving; request a new upload URL.`,
      'UPLOAD_NOT_FOUND',
      { details: { uploadId: id } },
    );
  }
  return { uploadId: id, size };
}

/**
 * Verifies the staged bytes of `uploadId` as record `uid`'s file, through the same path as a streamed upload.
 * @throws UPLOAD_NOT_FOUND, UPLOAD_USED, UPLOAD_NOT_RECEIVED, and every error of a streamed upload
 */
export async function completeDirectUpload(
  uid: string,
  uploadId: string,
  ctx: UploadContext,
): Promise<RecordUploadResult> {
  const row = await getStagedUpload(ctx.db, uploadId, ctx.scope);
  if (row.recordUid !== parseUid(uid) || row.kind === 'tus') throw uploadNotFound(uploadId);
  const from = row.kind === 'presigned' ? (['issued'] as const) : (['received'] as const);
  if (!(await moveStagedUpload(ctx.db, row.id, from, 'completing'))) {
    if (row.state === 'issued' || row.state === 'receiving') throw notReceived(row.id, row.state);
    throw uploadUsed(row.id, row.state);
  }
  const staged = await ctx.store.get(row.stagingKey);
  if (!staged) {
    // Nothing arrived yet: the upload may still be sent and completed again.
    await moveStagedUpload(ctx.db, row.id, ['completing'], row.state);
    throw notReceived(row.id);
  }
  try {
    // The staged object's stream is ours: each chunk is freed once written.
    const result = await storeUpload(uid, staged.body, {
      ...ctx,
      maxSize: sizeCap(row.maxSize, ctx.maxSize),
      ownsChunks: true,
    });
    await moveStagedUpload(ctx.db, row.id, ['completing'], 'done');
    return result;
  } catch (error) {
    await staged.body.cancel().catch(() => {});
    await moveStagedUpload(ctx.db, row.id, ['completing'], 'failed');
    throw error;
  } finally {
    await ctx.store.delete(row.stagingKey).catch(() => {});
  }
}

/**
 * Cancels a direct upload of the caller's that is not being completed: it moves to `failed` (its token and upload id
 * are refused from then on) and its staged bytes are removed. A token upload stops counting toward the per-user limit
 * at once; a presigned one once its URL has expired, since S3 cannot revoke the URL and a PUT could put bytes back
 * until then (`reclaimOwnUploads` or the sweep removes those). A token PUT still arriving finds its upload cancelled and
 * removes what it wrote.
 * @throws UPLOAD_NOT_FOUND (also someone else's, or a TUS upload: those end with a TUS DELETE), UPLOAD_USED
 */
export async function cancelDirectUpload(db: Db, store: FileStore, uploadId: string, scope: Scope): Promise<void> {
  const row = await getStagedUpload(db, uploadId, scope);
  if (row.kind === 'tus') throw uploadNotFound(uploadId);
  if (!(await moveStagedUpload(db, row.id, ['issued', 'receiving', 'received', 'failed'], 'failed'))) {
    const { state } = await getStagedUpload(db, row.id, scope);
    throw new FileProcessingError(
      `Upload ${row.id} cannot be cancelled: ${state === 'done' ? 'its file is already stored' : 'it is being completed'}.`,
      'UPLOAD_USED',
      { details: { uploadId: row.id, state } },
    );
  }
  await store.delete(row.stagingKey);
}

function notReceived(id: string, state?: string): FileProcessingError {
  // A token upload already being received cannot be PUT again: if that PUT was cut off (a dropped connection, a
  // server restart), only a new upload URL helps; the stuck one expires with its URL.
  const what =
    state === 'receiving'
      ? 'its PUT is still being received, or was cut off; if it was, request a new upload URL'
      : 'PUT the file to its upload URL first';
  return new FileProcessingError(`Upload ${id} has no bytes in storage yet; ${what}.`, 'UPLOAD_NOT_RECEIVED', {
    details: { uploadId: id, ...(state ? { state } : {}) },
  });
}

function hashToken(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

function sameHash(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/**
 * Removes what direct uploads left behind: the staged bytes of uploads expired more than `graceMs` ago and never
 * completed (or failed), and of completions stuck for `stuckAfterMs` (see `staleStagedUploads`), and their rows.
 * TUS uploads are swept by the TUS server's own expiration.
 */
export async function sweepDirectUploads(
  db: Db,
  store: FileStore,
  graceMs: number,
  stuckAfterMs: number,
): Promise<number> {
  let removed = 0;
  for (const row of await staleStagedUploads(db, graceMs, 'direct', stuckAfterMs)) {
    await store.delete(row.stagingKey);
    await deleteStagedUpload(db, row.id);
    removed += 1;
  }
  return removed;
}
