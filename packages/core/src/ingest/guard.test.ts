import { describe, expect, test } from 'bun:test';
import { tmpdir } from 'node:os';
import { loadSettings } from '../config/settings.ts';
import { SSRF_URL_FORMS as REFUSED } from '../testing/ssrf-forms.ts';
import {
  checkUrl,
  MAX_URL_LENGTH,
  parseAllowedHost,
  publicSourceUrl,
  resolveChecked,
  safeUrl,
  UrlNotAllowedError,
} from './guard.ts';
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
    const refused = await resolveChecked('rebind.example', { resolve }).catch((e: Error) => e);
    expect(refused).toBeInstanceOf(UrlNotAllowedError);
    // Its kind, never the internal address the caller did not give (a probe of the server's DNS).
    expect((refused as Error).message).toContain('rebind.example resolves to a private address');
    expect((refused as Error).message).not.toContain('10.0.0.5');
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

  test('an allowed host with a port allows that port only; without one, every port', async () => {
    const allowHosts = ['10.1.2.3:9000', '[fd00::5]:443', 'nas.example:8080', 'any.example'];
    expect(checkUrl('http://10.1.2.3:9000/a', { allowHosts }).port).toBe('9000');
    expect(() => checkUrl('http://10.1.2.3:9001/a', { allowHosts })).toThrow(UrlNotAllowedError);
    expect(() => checkUrl('http://10.1.2.3/a', { allowHosts })).toThrow(UrlNotAllowedError);
    // The scheme's port counts when the URL names none.
    expect(checkUrl('https://[fd00::5]/a', { allowHosts }).hostname).toBe('[fd00::5]');
    expect(() => checkUrl('http://[fd00::5]/a', { allowHosts })).toThrow(UrlNotAllowedError);
    const resolve = async () => [{ address: '192.168.0.9', family: 4 }];
    expect(await resolveChecked('nas.example', { resolve, allowHosts }, 'nas.example', 8080)).toHaveLength(1);
    await expect(resolveChecked('nas.example', { resolve, allowHosts }, 'nas.example', 8081)).rejects.toThrow(
      UrlNotAllowedError,
    );
    // Without a port to compare (a caller that cannot say), only port-less entries match.
    await expect(resolveChecked('nas.example', { resolve, allowHosts })).rejects.toThrow(UrlNotAllowedError);
    expect(await resolveChecked('any.example', { resolve, allowHosts }, 'any.example', 1234)).toHaveLength(1);
    expect(parseAllowedHost('Minio.Internal:9000')).toEqual({ host: 'minio.internal', port: 9000 });
    expect(parseAllowedHost('fd00::5')).toEqual({ host: 'fd00::5' });
    for (const bad of ['host:0', 'host:70000', 'host:x', '[fd00::5]:', ':80'])
      expect(parseAllowedHost(bad)).toBeUndefined();
    expect(() => loadSettings({ env: { MEDIAFORGE_ALLOW_HOSTS: 'ok.example,bad:port' } })).toThrow(/bad:port/);
  });

  test('URLs shown in errors carry no credentials or query secrets', () => {
    expect(safeUrl('https://u:p@host.example/a.mp3?X-Amz-Signature=abc')).toBe('https://host.example/a.mp3?…');
  });

  test('a string that is not a URL is shown without what looks like credentials, its query or its fragment', () => {
    for (const input of [
      'https://user:hunter2@exa mple.com/x?token=SECRETTOKEN',
      'https://bob:hunter2@bad host.example/a.wav?X-Amz-Signature=SECRET',
      'http://a b/c#SECRET',
      'http://user:pa@ss:hunter2@bad host/x',
    ]) {
      let error: unknown;
      try {
        checkUrl(input);
      } catch (e) {
        error = e;
      }
      expect(error, input).toMatchObject({ code: 'INVALID_URL' });
      const message = (error as Error).message;
      expect(message, input).not.toMatch(/hunter2|SECRET|user:|bob:/);
    }
    expect(() => checkUrl('https://u:p@exa mple.com/x?t=1')).toThrow('Not a valid URL: "https://exa mple.com/x…"');
  });

  test('Teredo and IPv6 benchmarking addresses are refused', () => {
    expect(nonPublicReason('2001:0:4136:e378:8000:63bf:3fff:fdd2')).toBe('a Teredo tunnel address');
    expect(nonPublicReason('2001:2::1')).toBe('a benchmarking address');
    expect(() => checkUrl('http://[2001::1]/')).toThrow(UrlNotAllowedError);
    // Other 2001: prefixes are ordinary global addresses.
    expect(nonPublicReason('2001:4860:4860::8888')).toBeUndefined();
  });
});

describe('publicSourceUrl', () => {
  test('drops userinfo, query and fragment: signed-URL tokens never reach API output', () => {
    expect(publicSourceUrl('https://u:p@cdn.example/a/b.mp3?X-Amz-Signature=abc&token=t#frag')).toBe(
      'https://cdn.example/a/b.mp3',
    );
    expect(publicSourceUrl('http://example.com')).toBe('http://example.com/');
    expect(publicSourceUrl('not a url')).toBeUndefined();
  });
});

test('the IPv4-translated form ::ffff:0:0/96 is refused', () => {
  expect(nonPublicReason('::ffff:0:7f00:1')).toBe('an IPv4-translated address');
  expect(() => checkUrl('http://[::ffff:0:7f00:1]/')).toThrow(UrlNotAllowedError);
});

test('NAT64: the well-known /96 is judged by the IPv4 address it carries; the local-use 64:ff9b:1::/48 is refused', () => {
  expect(nonPublicReason('64:ff9b::10.0.0.1')).toBe('a NAT64 form of a private address');
  expect(nonPublicReason('64:ff9b::8.8.8.8')).toBeUndefined();
  // RFC 6052's /48 layout puts 10.0.0.1 in bits 48–87 (0a00:0001 here), not in the last 32 bits.
  expect(nonPublicReason('64:ff9b:1:a00:1::')).toBe('a local-use NAT64 address');
  expect(nonPublicReason('64:ff9b:1::8.8.8.8')).toBe('a local-use NAT64 address');
  expect(() => checkUrl('http://[64:ff9b:1:a00:1::]/')).toThrow(UrlNotAllowedError);
});

describe('name lookups and the file system', () => {
  test("a burst of lookups of unknown names never holds up the process's file-system calls (second attacker, session 17)", async () => {
    // getaddrinfo ran on the runtime's pool threads: here a burst of 40 unknown names kept them ~5 s (the name server's
    // retry), and a one-byte synced write waited as long. (Where the name server answers at once, both pass.)
    const { writeFile, rm } = await import('node:fs/promises');
    const burst = Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        resolveChecked(`burst-${i}-${crypto.randomUUID()}.invalid`).catch((error: { code?: string }) => error.code),
      ),
    );
    await Bun.sleep(20);
    const path = `${tmpdir()}/mediaforge-dns-burst-${crypto.randomUUID()}`;
    const started = performance.now();
    await writeFile(path, 'x', { flush: true });
    const took = performance.now() - started;
    await rm(path, { force: true });
    expect(new Set(await burst)).toEqual(new Set(['DOWNLOAD_DNS']));
    expect(took).toBeLessThan(1500);
  });
});

describe('URL length', () => {
  test('a URL over MAX_URL_LENGTH is INVALID_URL before it is parsed; the message does not echo it', () => {
    const long = `https://example.com/${'a'.repeat(MAX_URL_LENGTH)}`;
    let caught: { code?: string; message?: string } | undefined;
    try {
      checkUrl(long);
    } catch (error) {
      caught = error as { code?: string; message?: string };
    }
    expect(caught?.code).toBe('INVALID_URL');
    expect(caught?.message).toBe(`The URL is ${long.length} characters, over ${MAX_URL_LENGTH}.`);
    expect(checkUrl(`https://example.com/${'a'.repeat(MAX_URL_LENGTH - 40)}`).hostname).toBe('example.com');
  });
});
