/**
 * What the crash-steps scenario hands its child process: one operation on one record, and the store and database to
 * run it against. Shared by the parent (chaos/crash-steps.test.ts) and the child (chaos/crash-steps.child.ts), so
 * both open the very same store the same way.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileStore, createS3Store, type ObjectStore } from '@mediaforge/storage';
import { S3RVER_CREDENTIALS } from '@mediaforge/storage/testing';

export const OPS = ['upload', 'replace', 'generate', 'force-regenerate', 'ingest', 'delete'] as const;
export type Op = (typeof OPS)[number];

/** The steps of the file path a child is killed at; `during-put` is the child's store wrapper, the rest core's hook. */
export const FILE_STEPS = [
  'after-claim',
  'during-spool',
  'after-reserve',
  'during-put',
  'after-put',
  'after-commit',
] as const;
export type Step = (typeof FILE_STEPS)[number] | 'delete-after-commit';

export type StoreSpec = { kind: 's3'; endpoint: string; bucket: string } | { kind: 'disk'; root: string };

export interface CrashSpec {
  op: Op;
  uid: string;
  user: string;
  databaseUrl: string;
  store: StoreSpec;
  home: string;
  /** upload/replace: a file holding the bytes; ingest: the URL; generate: the size in KiB. */
  payloadPath?: string;
  url?: string;
  fileSizeKb?: number;
}

/** Multipart from 5 MiB, so the full run's 6 MiB upload is killed with a part already on the server. */
export function openStore(spec: StoreSpec): ObjectStore {
  return spec.kind === 's3'
    ? createS3Store({
        bucket: spec.bucket,
        endpoint: spec.endpoint,
        partSizeBytes: 5 * 1024 * 1024,
        maxAttempts: 1,
        ...S3RVER_CREDENTIALS,
      })
    : createFileStore({ root: spec.root });
}

export function crashSettings(home: string) {
  return {
    maxFileSizeBytes: 16 * 1024 * 1024,
    // Claims older than this are stale; the scenario moves the clock past it rather than waiting.
    taskTimeoutMinutes: 30,
    maxBatchSize: 100,
    allowHosts: [] as string[],
    home: home || mkdtempSync(join(tmpdir(), 'mediaforge-crash-home-')),
  };
}
