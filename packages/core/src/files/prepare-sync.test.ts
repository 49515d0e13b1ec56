import { expect, test } from 'bun:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesizeWav } from '../media/synth/audio.ts';
import { withPreparedFile } from './prepare.ts';

test('syncWhileSpooling: a body past several sync intervals spools whole, with its hash, and the spool is kept for the store', async () => {
  // A valid WAV of 70 MiB of samples: past several 32 MiB sync intervals. The synthesiser is deterministic, so a second
  // copy gives the expected hash.
  const size = 70 * 1024 * 1024 + 44;
  const sha256 = new Bun.CryptoHasher('sha256')
    .update(await new Response(synthesizeWav(size, 7)).arrayBuffer())
    .digest('hex');
  const stream = synthesizeWav(size, 7);
  const home = mkdtempSync(join(tmpdir(), 'mediaforge-sync-spool-'));
  const seen = await withPreparedFile(stream, { home, syncWhileSpooling: true }, async (file) => {
    const spooled = file.spool ? await Bun.file(file.spool.path).arrayBuffer() : undefined;
    const onDisk = spooled ? new Bun.CryptoHasher('sha256').update(spooled).digest('hex') : undefined;
    return { size: file.size, sha256: file.sha256, onDisk };
  });
  expect(seen).toEqual({ size, sha256, onDisk: sha256 });
}, 120_000);
