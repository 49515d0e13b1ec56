/**
 * One operation of the file path, run to be killed: the parent sets `MEDIAFORGE_CRASH_AT=<step>` and this process
 * SIGKILLs itself there (core's crash points), or, for `during-put`, inside the store's put with part of the body
 * sent. Exiting on its own means the step was never reached, which the parent counts as a failure.
 *
 * Usage: bun crash-steps.child.ts '<CrashSpec JSON>'
 */
import { deleteRecord, openDatabase, processUrl, RecordFileGenerator, storeUpload, userScope } from '@mediaforge/core';
import type { ObjectStore } from '@mediaforge/storage';
import { type CrashSpec, crashSettings, openStore } from './lib/crash-spec.ts';

const spec = JSON.parse(process.argv[2] ?? '{}') as CrashSpec;
const database = await openDatabase({ url: spec.databaseUrl, maxConnections: 2 });
const base = openStore(spec.store);
const store = process.env.MEDIAFORGE_CRASH_AT === 'during-put' ? dyingInPut(base) : base;
const settings = crashSettings(spec.home);
const scope = userScope(spec.user);
const db = database.db;

if (spec.op === 'upload' || spec.op === 'replace') {
  const bytes = await Bun.file(spec.payloadPath as string).bytes();
  await storeUpload(spec.uid, new Blob([bytes]).stream(), {
    db,
    store,
    settings,
    scope,
    replace: spec.op === 'replace',
    compress: false,
  });
} else if (spec.op === 'generate' || spec.op === 'force-regenerate') {
  await new RecordFileGenerator({ db, store, settings, scope }).generate(spec.uid, {
    force: spec.op === 'force-regenerate',
    fileSizeKb: spec.fileSizeKb ?? 4,
  });
} else if (spec.op === 'ingest') {
  await processUrl(spec.url as string, {
    db,
    store,
    settings,
    userId: spec.user,
    recordUid: spec.uid,
    policy: { allowPrivate: true },
    compress: false,
    download: { retries: 0 },
  });
} else {
  await deleteRecord(db, store, spec.uid, scope);
}
await database.close();
console.log('finished without reaching the crash step');

/**
 * The store with every put streamed (the disk's spool rename would be atomic) and its body held back before the
 * last bytes: the put is under way — a temp file on disk, a multipart part on S3 for a big body — and never ends.
 * The process kills itself once the store has had time to send what it got.
 */
function dyingInPut(inner: ObjectStore): ObjectStore {
  const { putFile: _streamInstead, ...rest } = inner;
  return {
    ...rest,
    put(key, body, options) {
      const bytes = body instanceof Uint8Array ? body : undefined;
      const source = bytes
        ? (new Blob([bytes as Uint8Array<ArrayBuffer>]).stream() as ReadableStream<Uint8Array>)
        : (body as ReadableStream<Uint8Array>);
      const reader = source.getReader();
      let held: Uint8Array | undefined;
      const partial = new ReadableStream<Uint8Array>({
        // A pull must enqueue or the stream stalls silently: read until there is a chunk to pass on.
        async pull(controller) {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) {
              // Everything but the last byte went out; the rest never will.
              if (held && held.byteLength > 1) controller.enqueue(held.subarray(0, held.byteLength - 1));
              setTimeout(() => process.kill(process.pid, 'SIGKILL'), 1500);
              return new Promise<void>(() => {});
            }
            const previous = held;
            held = value;
            if (previous) {
              controller.enqueue(previous);
              return;
            }
          }
        },
      });
      return inner.put(key, partial, options);
    },
  };
}
