import { describe, expect, test } from 'bun:test';
import { MAX_ORIGINAL_NAME, nameFromDisposition, nameFromUrl, sanitizeOriginalName } from './original-name.ts';

describe('original names', () => {
  test('keep the last path segment without controls, separators, quotes or bidi overrides', () => {
    expect(sanitizeOriginalName('../../etc/pass\nwd.txt')).toBe('pass_wd.txt');
    expect(sanitizeOriginalName('C:\\Users\\me\\photo.jpg')).toBe('photo.jpg');
    expect(sanitizeOriginalName('evil\u202Egpj.exe')).toBe('evil_gpj.exe');
    expect(sanitizeOriginalName('say "hi".mp3')).toBe('say _hi_.mp3');
    expect(sanitizeOriginalName('Привет мир.png')).toBe('Привет мир.png');
    for (const empty of ['', '..', '/', '\u0000', '   ', undefined])
      expect(sanitizeOriginalName(empty)).toBeUndefined();
  });

  test('are cut to the limit, keeping the extension', () => {
    const name = sanitizeOriginalName(`${'a'.repeat(10_000)}.jpeg`) as string;
    expect([...name].length).toBe(MAX_ORIGINAL_NAME);
    expect(name.endsWith('a.jpeg')).toBe(true);
    expect([...(sanitizeOriginalName('😀'.repeat(400)) as string)].length).toBe(MAX_ORIGINAL_NAME);
  });

  test('come from Content-Disposition (filename* first) and from URL paths', () => {
    expect(nameFromDisposition('attachment; filename="cat.jpg"')).toBe('cat.jpg');
    expect(nameFromDisposition('attachment; filename="x.jpg"; filename*=UTF-8\'\'%E7%8C%AB.jpg')).toBe('猫.jpg');
    expect(nameFromDisposition('attachment; filename="../../x.sh"')).toBe('x.sh');
    expect(nameFromDisposition('attachment')).toBeUndefined();
    expect(nameFromDisposition('not a ; valid ;; header ===')).toBeUndefined();
    // A quoted name sent as raw UTF-8 arrives one character per byte: read as UTF-8 (it was "Ã©tÃ©.wav"), and a
    // name whose bytes are not UTF-8 is kept as Latin-1 (attacker, session 17).
    const latin1 = (text: string) => String.fromCharCode(...new TextEncoder().encode(text));
    expect(nameFromDisposition(`attachment; filename="${latin1('été 🎵.wav')}"`)).toBe('été 🎵.wav');
    expect(nameFromDisposition('attachment; filename="caf\u00e9.wav"')).toBe('café.wav');
    expect(nameFromUrl('https://cdn.example/a/b/My%20Clip.mp4?sig=secret')).toBe('My Clip.mp4');
    expect(nameFromUrl('https://cdn.example/')).toBeUndefined();
    expect(nameFromUrl('https://cdn.example/%E0%A4%A')).toBeUndefined();
  });
});
