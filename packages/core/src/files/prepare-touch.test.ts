import { afterEach, expect, setSystemTime, test } from 'bun:test';
import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesizeWav } from '../media/synth/audio.ts';
import { SPOOL_TOUCH_MS, withPreparedFile } from './prepare.ts';

afterEach(() => setSystemTime());

test('a body trickling in keeps its spool fresh: what arrived is written once a minute has passed since the last write', async () => {
  const size = 256 * 1024 + 44;
  const whole = new Uint8Array(await new Response(synthesizeWav(size, 3)).arrayBuffer());
  const home = mkdtempSync(join(tmpdir(), 'mediaforge-spool-touch-'));
  let send: ((bytes: Uint8Array) => void) | undefined;
  let end: (() => void) | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      send = (bytes) => controller.enqueue(bytes.slice());
      end = () => controller.close();
    },
  });
  const spoolSize = () => {
    // No spool (not even its directory) until the first write: a body that ends before one write stays in memory.
    const name = existsSync(join(home, 'tmp'))
      ? readdirSync(join(home, 'tmp')).find((n) => n.startsWith('spool-'))
      : undefined;
    return name ? statSync(join(home, 'tmp', name)).size : -1;
  };
  const tick = () => Bun.sleep(20);
  const prepared = withPreparedFile(body, { home }, async (file) => ({ size: file.size, sha256: file.sha256 }));
  // 16 KiB pieces, far below one spool write (1 MiB): nothing reaches the disk while time does not pass.
  let sent = 0;
  const piece = 16 * 1024;
  const sendNext = () => {
    send?.(whole.subarray(sent, Math.min(sent + piece, whole.length)));
    sent = Math.min(sent + piece, whole.length);
  };
  for (let n = 0; n < 4; n++) sendNext();
  await tick();
  const before = spoolSize();
  expect(before).toBeLessThan(sent);
  // A trickle: a piece every 61 s of the clock. A piece read more than SPOOL_TOUCH_MS after the last write is written
  // at once, so the spool's mtime (what the sweep compares, spool-sweep.ts) stays that recent while bytes arrive.
  let now = Date.now();
  for (let n = 0; n < 5; n++) {
    now += SPOOL_TOUCH_MS + 1000;
    setSystemTime(new Date(now));
    sendNext();
    await tick();
    expect(spoolSize()).toBe(sent);
  }
  while (sent < whole.length) sendNext();
  end?.();
  setSystemTime();
  const done = await prepared;
  expect(done).toEqual({ size, sha256: new Bun.CryptoHasher('sha256').update(whole).digest('hex') });
});
