/**
 * Regenerates the fixture corpus with real encoders (ffmpeg, sharp): `bun packages/core/test/make-fixtures.ts`.
 * The output is committed, so tests do not depend on the encoders' exact versions.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';

const dir = join(import.meta.dir, 'fixtures');
const negative = join(dir, 'negative');
mkdirSync(negative, { recursive: true });

const ffmpeg = (...args: string[]) => execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
const tone = ['-f', 'lavfi', '-i', 'sine=frequency=440:duration=1'];
const clip = ['-f', 'lavfi', '-i', 'testsrc=size=96x64:rate=10:duration=1'];

ffmpeg(...tone, '-c:a', 'libmp3lame', '-b:a', '64k', join(dir, 'fixture.mp3'));
ffmpeg(
  ...tone,
  '-c:a',
  'libmp3lame',
  '-b:a',
  '64k',
  '-id3v2_version',
  '3',
  '-metadata',
  'title=Fixture',
  join(dir, 'fixture-id3.mp3'),
);
ffmpeg(...tone, '-c:a', 'pcm_s16le', '-ar', '8000', join(dir, 'fixture.wav'));
ffmpeg(...tone, '-c:a', 'libvorbis', join(dir, 'fixture.ogg'));
ffmpeg(...tone, '-c:a', 'libopus', join(dir, 'fixture.opus'));
ffmpeg(...tone, '-c:a', 'flac', join(dir, 'fixture.flac'));
ffmpeg(...tone, '-c:a', 'aac', '-b:a', '64k', join(dir, 'fixture.m4a'));
ffmpeg(...tone, '-c:a', 'aac', '-b:a', '64k', '-f', 'adts', join(dir, 'fixture.aac'));
ffmpeg(...clip, '-c:v', 'libx264', '-pix_fmt', 'yuv420p', join(dir, 'fixture.mp4'));
ffmpeg(
  ...clip,
  ...tone,
  '-c:v',
  'libx264',
  '-pix_fmt',
  'yuv420p',
  '-c:a',
  'aac',
  '-shortest',
  join(dir, 'fixture-av.mp4'),
);
ffmpeg(
  ...clip,
  '-c:v',
  'libx264',
  '-pix_fmt',
  'yuv420p',
  '-movflags',
  '+faststart',
  join(dir, 'fixture-faststart.mp4'),
);
ffmpeg(...clip, '-c:v', 'libvpx-vp9', '-b:v', '100k', join(dir, 'fixture.webm'));
ffmpeg(...clip, '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-f', 'mov', join(dir, 'fixture.mov'));

const width = 64;
const height = 48;
const pixels = Buffer.alloc(width * height * 3);
for (let y = 0; y < height; y++) {
  for (let x = 0; x < width; x++) {
    const i = (y * width + x) * 3;
    pixels[i] = (x * 4) & 255;
    pixels[i + 1] = (y * 5) & 255;
    pixels[i + 2] = ((x ^ y) * 7) & 255;
  }
}
const raw = { raw: { width, height, channels: 3 as const } };
await sharp(pixels, raw).jpeg({ quality: 90 }).toFile(join(dir, 'fixture.jpg'));
await sharp(pixels, raw).png().toFile(join(dir, 'fixture.png'));
await sharp(pixels, raw).webp({ quality: 80 }).toFile(join(dir, 'fixture.webp'));
await sharp(pixels, raw).gif().toFile(join(dir, 'fixture.gif'));
await sharp(pixels, raw).avif({ quality: 50 }).toFile(join(dir, 'fixture.avif'));
writeFileSync(
  join(dir, 'fixture.txt'),
  '2025-06-03T19:30:45Z తెలుగు భాష ఒక ద్రావిడ భాష.\n2025-06-03T19:30:46Z Sample corpus line two.\n',
);

// Negatives: every valid fixture cut in half.
for (const name of [
  'fixture.jpg',
  'fixture.png',
  'fixture.webp',
  'fixture.gif',
  'fixture.avif',
  'fixture.mp3',
  'fixture.wav',
  'fixture.ogg',
  'fixture.opus',
  'fixture.flac',
  'fixture.m4a',
  'fixture.aac',
  'fixture.mp4',
  'fixture.webm',
  'fixture.mov',
  'fixture-faststart.mp4',
]) {
  const bytes = readFileSync(join(dir, name));
  writeFileSync(join(negative, name.replace(/^fixture/, 'truncated')), bytes.subarray(0, Math.floor(bytes.length / 2)));
}
// A PNG saved under a .jpg name: detection must say PNG.
copyFileSync(join(dir, 'fixture.png'), join(negative, 'wrong-extension.jpg'));
// A polyglot: a PNG signature and header followed by a ZIP archive.
const png = readFileSync(join(dir, 'fixture.png'));
const zip = execFileSync('python3', [
  '-c',
  [
    'import io,sys,zipfile',
    'b=io.BytesIO()',
    'z=zipfile.ZipFile(b,"w")',
    'z.writestr("payload.js","alert(1)")',
    'z.close()',
    'sys.stdout.buffer.write(b.getvalue())',
  ].join('\n'),
]);
writeFileSync(join(negative, 'polyglot.png'), Buffer.concat([png.subarray(0, 33), zip]));
writeFileSync(join(negative, 'archive.zip'), zip);
// A decompression bomb: a valid 1-bit PNG of 20000 × 20000 pixels (400 megapixels) in a few kilobytes.
writeFileSync(join(negative, 'bomb.png'), bombPng(20000));
writeFileSync(join(negative, 'elf.bin'), readFileSync('/bin/true').subarray(0, 4096));
writeFileSync(
  join(negative, 'document.pdf'),
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
);
writeFileSync(join(negative, 'invalid-utf8.txt'), Buffer.from([0x48, 0x69, 0x20, 0xc3, 0x28, 0xa0, 0xa1, 0x0a]));
writeFileSync(join(negative, 'nul-bytes.txt'), Buffer.from('text with a \u0000 NUL byte\n'));
writeFileSync(join(negative, 'empty.bin'), new Uint8Array(0));
console.log('fixtures written to', dir);

function bombPng(side: number): Buffer {
  const chunk = (kind: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(kind, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(Bun.hash.crc32(body) >>> 0);
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(side, 0);
  header.writeUInt32BE(side, 4);
  header[8] = 1; // bit depth
  header[9] = 0; // greyscale
  const rows = Buffer.alloc((1 + Math.ceil(side / 8)) * side);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
