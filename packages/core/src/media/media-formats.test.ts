/** The media-format contract: driven from supported.ts, so a supported type without fixtures fails. */
import { describe, expect, test } from 'bun:test';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FileTypeNotSupportedError, IntegrityError } from '../errors.ts';
import { detectFileType, requireSupportedType } from './detect.ts';
import { SUPPORTED_TYPES } from './supported.ts';
import { validateFileIntegrity } from './validate/validate.ts';

const FIXTURES = join(import.meta.dir, '../../test/fixtures');
const NEGATIVE = join(FIXTURES, 'negative');
const files = readdirSync(FIXTURES).filter((name) => name.startsWith('fixture'));
const bytesOf = async (path: string) => new Uint8Array(await Bun.file(path).arrayBuffer());

/** Streams the bytes in small pieces, as a socket would. */
function trickle(bytes: Uint8Array, piece = 1000): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + piece));
      offset += piece;
    },
  });
}

for (const type of SUPPORTED_TYPES) {
  describe(`${type.mime} (${type.extension})`, () => {
    const own = files.filter((name) => name.endsWith(type.extension));

    test('has at least one valid fixture and one truncated negative', () => {
      expect(own.length).toBeGreaterThan(0);
      if (type.mediaType !== 'text') expect(readdirSync(NEGATIVE)).toContain(`truncated${type.extension}`);
    });

    for (const name of own) {
      test(`${name}: detected from bytes, from a stream (keeping every byte) and validated from bytes and a file`, async () => {
        const path = join(FIXTURES, name);
        const bytes = await bytesOf(path);
        const fromBytes = await detectFileType(bytes, { url: `https://cdn.example/${name}` });
        expect(fromBytes).toMatchObject({
          contentType: type.mime,
          extension: type.extension,
          mediaType: type.mediaType,
          isValid: true,
        });
        expect(fromBytes.mismatch).toBeUndefined();

        const fromStream = await detectFileType(trickle(bytes));
        expect(fromStream.contentType).toBe(type.mime);
        expect(new Uint8Array(await new Response(fromStream.stream).arrayBuffer())).toEqual(bytes);

        const info = await validateFileIntegrity(bytes, type.mime);
        expect(info).toMatchObject({ contentType: type.mime, mediaType: type.mediaType, size: bytes.byteLength });
        if (type.mediaType === 'image') expect(info.width).toBe(64);
        if (type.mediaType === 'audio' || type.mediaType === 'video') {
          expect(info.durationSeconds).toBeGreaterThan(0.9);
          expect(info.durationSeconds).toBeLessThan(1.2);
        }
        if (type.mediaType === 'video') expect(info.tracks?.video).toBe(1);
        expect(await validateFileIntegrity(Bun.file(path), type.mime)).toEqual(info);
        expect(await validateFileIntegrity(trickle(bytes), type.mime)).toEqual(info);
      });
    }

    if (type.mediaType !== 'text') {
      test(`truncated${type.extension} is refused with an IntegrityError saying what is wrong`, async () => {
        const bytes = await bytesOf(join(NEGATIVE, `truncated${type.extension}`));
        expect((await detectFileType(bytes)).contentType).toBe(type.mime);
        const error = await validateFileIntegrity(bytes, type.mime).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(IntegrityError);
        expect((error as IntegrityError).code).toBe('INTEGRITY_ERROR');
        expect((error as Error).message).toContain(type.mime);
      });
    }
  });
}

describe('negative fixtures', () => {
  test('a truncated MP4 whose index survives is caught by its sample tables', async () => {
    const error = await validateFileIntegrity(
      await bytesOf(join(NEGATIVE, 'truncated-faststart.mp4')),
      'video/mp4',
    ).catch((e) => e);
    expect(error).toBeInstanceOf(IntegrityError);
    expect(error.message).toContain('truncated');
  });

  test('a PNG named .jpg is detected as PNG and the mismatch reported', async () => {
    const detection = await detectFileType(await bytesOf(join(NEGATIVE, 'wrong-extension.jpg')), {
      url: 'https://x.example/photo.jpg?size=large',
      declaredType: 'image/jpeg',
    });
    expect(detection.contentType).toBe('image/png');
    expect(detection.mismatch).toEqual({
      url: 'URL says .jpg, content is image/png',
      declaredType: 'declared image/jpeg, content is image/png',
    });
  });

  test('a polyglot (PNG header + ZIP) fails integrity', async () => {
    const bytes = await bytesOf(join(NEGATIVE, 'polyglot.png'));
    expect((await detectFileType(bytes)).contentType).toBe('image/png');
    await expect(validateFileIntegrity(bytes, 'image/png')).rejects.toBeInstanceOf(IntegrityError);
  });

  test('a decompression bomb is refused by its header, before decoding', async () => {
    const bytes = await bytesOf(join(NEGATIVE, 'bomb.png'));
    const error = await validateFileIntegrity(bytes, 'image/png').catch((e) => e);
    expect(error).toBeInstanceOf(IntegrityError);
    expect(error.message).toMatch(/pixel limit|exceeds/);
  });

  test.each([
    ['elf.bin', 'application/x-elf'],
    ['archive.zip', 'application/zip'],
    ['document.pdf', 'application/pdf'],
    ['invalid-utf8.txt', 'application/octet-stream'],
    ['nul-bytes.txt', 'application/octet-stream'],
    ['empty.bin', 'application/x-empty'],
  ])('%s is refused as unsupported, naming the detected type %s', async (name, detected) => {
    const error = await requireSupportedType(await bytesOf(join(NEGATIVE, name))).catch((e) => e);
    expect(error).toBeInstanceOf(FileTypeNotSupportedError);
    expect(error.code).toBe('FILE_TYPE_NOT_SUPPORTED');
    expect(error.message).toContain(detected);
  });

  test('text validation pinpoints invalid UTF-8 and NUL bytes', async () => {
    const invalid = await validateFileIntegrity(await bytesOf(join(NEGATIVE, 'invalid-utf8.txt')), 'text/plain').catch(
      (e) => e,
    );
    expect(invalid.message).toContain('invalid UTF-8');
    const nul = await validateFileIntegrity(await bytesOf(join(NEGATIVE, 'nul-bytes.txt')), 'text/plain').catch(
      (e) => e,
    );
    expect(nul.message).toContain('NUL byte at offset 12');
  });

  test('a multi-byte character split across detection and read chunks is still valid text', async () => {
    const text = new TextEncoder().encode('తెలుగు '.repeat(30_000));
    // 'తెలుగు ' is 19 bytes; 64 KiB + 2 = 3449 × 19 + 7 cuts the third character. Detection only samples the start…
    const cut = text.subarray(0, 64 * 1024 + 2);
    expect((await detectFileType(cut)).contentType).toBe('text/plain');
    // …and validation of the whole buffer finds the broken character at its end.
    await expect(validateFileIntegrity(cut, 'text/plain')).rejects.toBeInstanceOf(IntegrityError);
    const detection = await detectFileType(trickle(text, 4097));
    expect(detection.contentType).toBe('text/plain');
    expect((await validateFileIntegrity(text, 'text/plain')).characters).toBe(7 * 30_000);
  });

  test('validating an unsupported type is a FileTypeNotSupportedError', async () => {
    await expect(validateFileIntegrity(new Uint8Array(10), 'application/pdf')).rejects.toBeInstanceOf(
      FileTypeNotSupportedError,
    );
  });
});
