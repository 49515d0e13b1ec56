import { describe, expect, test } from 'bun:test';
import { checkUrl, resolveChecked, safeUrl, UrlNotAllowedError } from './guard.ts';
import { canonicalIp, nonPublicReason, parseIPv4Loose } from './ip.ts';

describe('IP spellings are normalised before they are judged', () => {
  test.each([
    ['127.0.0.1', '127.0.0.1'],
    ['2130706433', '127.0.0.1'],
    ['0x7f000001', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
    ['0x7f.1', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['0', '0.0.0.0'],
    ['[::ffff:127.0.0.1]', '::ffff:127.0.0.1'],
  ])('%s → %s', (spelling, canonical) => {
    expect(canonicalIp(spelling)).toBe(canonical);
  });

  test('names and out-of-range numbers are not IPs', () => {
    expect(parseIPv4Loose('example.com')).toBeUndefined();
    expect(parseIPv4Loose('256.1.1.1')).toBeUndefined();
    expect(parseIPv4Loose('4294967296')).toBeUndefined();
    expect(parseIPv4Loose('08.1.1.1')).toBeUndefined();
  });
});

// Every form here must be refused without the opt-in (the issue asks for at least 30).
const REFUSED = [
  'http://127.0.0.1/',
  'http://127.255.255.254/',
  'http://localhost/',
  'http://api.localhost/',
  'http://2130706433/',
  'http://0x7f000001/',
  'http://0177.0.0.1/',
  'http://0x7f.1/',
  'http://127.1/',
  'http://0/',
  'http://0.0.0.0/',
  'http://10.0.0.1/',
  'http://172.16.5.4/',
  'http://172.31.255.255/',
  'http://192.168.1.1/',
  'http://100.64.0.1/',
  'http://169.254.169.254/latest/meta-data/',
  'http://169.254.170.2/',
  'http://224.0.0.1/',
  'http://255.255.255.255/',
  'http://198.18.0.1/',
  'http://[::1]/',
  'http://[::]/',
  'http://[::ffff:127.0.0.1]/',
  'http://[::ffff:7f00:1]/',
  'http://[::ffff:169.254.169.254]/',
  'http://[64:ff9b::127.0.0.1]/',
  'http://[64:ff9b::a9fe:a9fe]/',
  'http://[2002:7f00:1::]/',
  'http://[fe80::1]/',
  'http://[fc00::1]/',
  'http://[fd00:ec2::254]/',
  'http://[ff02::1]/',
  'http://metadata.google.internal/',
  'http://printer.local/',
  'file:///etc/passwd',
  'ftp://example.com/file.mp3',
  'gopher://example.com/',
  'data:text/plain,hello',
  'javascript:alert(1)',
  'http://user:secret@example.com/file.mp3',
];

describe('the SSRF guard refuses non-public targets by default', () => {
  test(`${REFUSED.length} URL forms are refused`, () => {
    expect(REFUSED.length).toBeGreaterThanOrEqual(30);
    for (const url of REFUSED) {
      let error: unknown;
      try {
        checkUrl(url);
      } catch (e) {
        error = e;
      }
      expect(error, url).toBeInstanceOf(UrlNotAllowedError);
      expect((error as Error).message).not.toContain('secret');
    }
  });

  test('public addresses and names pass the URL check', () => {
    for (const url of [
      'https://example.com/a.mp3',
      'http://8.8.8.8/x',
      'http://[2606:4700::1111]/',
      'http://1.1.1.1/',
    ]) {
      expect(checkUrl(url).href).toBe(new URL(url).href);
    }
    expect(nonPublicReason('93.184.216.34')).toBeUndefined();
    expect(nonPublicReason('::ffff:8.8.8.8')).toBeUndefined();
  });

  test('names resolving to private addresses are refused after DNS (resolver stub)', async () => {
    const resolve = async (host: string) =>
      host === 'rebind.example'
        ? [
            { address: '93.184.216.34', family: 4 },
            { address: '10.0.0.5', family: 4 },
          ]
        : [{ address: '93.184.216.34', family: 4 }];
    await expect(resolveChecked('rebind.example', { resolve })).rejects.toBeInstanceOf(UrlNotAllowedError);
    expect(await resolveChecked('ok.example', { resolve })).toEqual([{ address: '93.184.216.34', family: 4 }]);
  });

  test('the opt-ins open it up explicitly', async () => {
    expect(checkUrl('http://127.0.0.1:8080/', { allowPrivate: true }).port).toBe('8080');
    expect(checkUrl('http://10.1.2.3/', { allowHosts: ['10.1.2.3'] }).hostname).toBe('10.1.2.3');
    const resolve = async () => [{ address: '192.168.0.9', family: 4 }];
    expect(await resolveChecked('nas.example', { resolve, allowHosts: ['nas.example'] })).toHaveLength(1);
    // Schemes and credentials stay refused even with the opt-in.
    expect(() => checkUrl('file:///etc/passwd', { allowPrivate: true })).toThrow(UrlNotAllowedError);
  });

  test('URLs shown in errors carry no credentials or query secrets', () => {
    expect(safeUrl('https://u:p@host.example/a.mp3?X-Amz-Signature=abc')).toBe('https://host.example/a.mp3?…');
  });
});
