/**
 * The SSRF guard: which URLs and which connected addresses a download may use. Checked on the URL before
 * connecting and again on every address DNS returns, through the `lookup` the HTTP client connects with, so the
 * address checked is the address used (no DNS rebinding gap), on every redirect hop.
 */
import { FileProcessingError } from '../errors.ts';
import { cachedResolver } from './dns-cache.ts';
import { canonicalIp, nonPublicReason } from './ip.ts';

/**
 * Every address of a name, from `/etc/hosts` and the name servers of `/etc/resolv.conf`, asked by c-ares on the event
 * loop. Not `dns.lookup`: getaddrinfo holds one of the runtime's few pool threads until a name server answers or times
 * out (5 s per try here for a burst of unknown names), and every file-system call of the process — every user's
 * uploads and stores — waited behind it: one user's 1,000 unresolvable URLs made another's uploads 300× slower.
 */
async function lookupAll(name: string): Promise<{ address: string; family: number }[]> {
  try {
    const answers = await Bun.dns.lookup(name, { backend: 'c-ares' });
    return answers.map(({ address, family }) => ({ address, family }));
  } catch (error) {
    // Bun names c-ares failures DNS_ENOTFOUND, DNS_ETIMEOUT…; the codes without the prefix are Node's.
    const code = String((error as { code?: unknown }).code ?? '').replace(/^DNS_/, '') || undefined;
    throw Object.assign(new Error(`cannot resolve ${name}`), { code, cause: error });
  }
}

/** The resolver, behind a 30-second cache (dns-cache.ts). */
const systemResolver = cachedResolver(lookupAll);

/** Resolver failures worth another attempt: the name server was busy or did not answer, not "no such name". */
const TRANSIENT_DNS = new Set(['EAI_AGAIN', 'ETIMEOUT', 'ESERVFAIL', 'ECONNREFUSED']);

export interface NetworkPolicy {
  /** Allow loopback, private and link-local targets (tests, trusted internal origins). Default false. */
  allowPrivate?: boolean;
  /** Host names or IP literals always allowed, whatever they resolve to (`MEDIAFORGE_ALLOW_HOSTS`). */
  allowHosts?: readonly string[];
  /** Resolver, for tests; defaults to the system resolver (c-ares, all addresses, cached 30 s). */
  resolve?: (host: string) => Promise<{ address: string; family: number }[]>;
}

export class UrlNotAllowedError extends FileProcessingError {
  constructor(url: string, reason: string) {
    super(
      `Refusing to download ${url}: ${reason}. Downloads reach public addresses only; allow a trusted host with MEDIAFORGE_ALLOW_HOSTS or --allow-private.`,
      'URL_NOT_ALLOWED',
      { details: { url, reason } },
    );
  }
}

/** The URL without credentials and with its query elided: safe for logs, errors and records. */
export function safeUrl(url: string | URL): string {
  try {
    const parsed = new URL(String(url));
    parsed.username = '';
    parsed.password = '';
    const query = parsed.search ? '?…' : '';
    parsed.search = '';
    parsed.hash = '';
    return `${parsed.toString()}${query}`;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * The URL as others may see it: no userinfo, no query, no fragment (signed-URL tokens live there), e.g.
 * `publicSourceUrl('https://u:p@cdn.example/a.mp3?X-Amz-Signature=…#t')` → `https://cdn.example/a.mp3`.
 * For records' `source_url` and API output; `undefined` for a value that is not a URL.
 */
export function publicSourceUrl(url: string | URL): string | undefined {
  try {
    const parsed = new URL(String(url));
    parsed.username = '';
    parsed.password = '';
    parsed.search = '';
    parsed.hash = '';
    return parsed.toString();
  } catch {
    return undefined;
  }
}

/**
 * What an error may show of a string that does not parse as a URL: without what looks like credentials (anything
 * before an `@` in the authority), without its query and fragment, at most 200 characters. A typo in a signed URL
 * must not print its token or password.
 */
function shownInvalid(input: string): string {
  const bare = input.split(/[?#]/, 1)[0] ?? '';
  const authority = /^([^:/?#]*:\/\/)([^/?#]*)/.exec(bare);
  const withoutUser =
    authority && (authority[2] as string).includes('@')
      ? `${authority[1]}${(authority[2] as string).slice((authority[2] as string).lastIndexOf('@') + 1)}${bare.slice(authority[0].length)}`
      : bare;
  const elided = withoutUser.length < input.length ? `${withoutUser.slice(0, 200)}…` : withoutUser.slice(0, 200);
  return elided;
}

/**
 * An `allowHosts` entry: a host, or a host and port (`minio.internal:9000`, `[fd00::5]:9000`). A bare IPv6 address
 * (several colons, no brackets) is a host. Undefined when the port is not a port.
 */
export function parseAllowedHost(entry: string): { host: string; port?: number } | undefined {
  const text = entry.trim().toLowerCase();
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
  const [host, portText] = bracketed
    ? [bracketed[1] as string, bracketed[2]]
    : (text.match(/:/g) ?? []).length === 1
      ? (text.split(':') as [string, string])
      : [text, undefined];
  if (host === '') return undefined;
  if (portText === undefined) return { host };
  const port = Number(portText);
  return /^\d{1,5}$/.test(portText) && port >= 1 && port <= 65535 ? { host, port } : undefined;
}

/** The port a URL connects to. */
export function portOf(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}

/** Whether `host` (and, when an entry names one, `port`) is one the operator allowed whatever it resolves to. */
const isAllowedHost = (host: string, port: number | undefined, policy: NetworkPolicy) => {
  const wanted = host.toLowerCase().replace(/^\[|\]$/g, '');
  return (policy.allowHosts ?? []).some((entry) => {
    const allowed = parseAllowedHost(entry);
    return allowed?.host === wanted && (allowed.port === undefined || allowed.port === port);
  });
};

/** Longest URL accepted anywhere (API, CLI, library): browsers and servers commonly stop near 8 KiB. */
export const MAX_URL_LENGTH = 8192;

/** Checks what can be checked from the URL alone (its length first); returns the parsed URL. */
export function checkUrl(input: string | URL, policy: NetworkPolicy = {}): URL {
  const length = String(input).length;
  if (length > MAX_URL_LENGTH) {
    throw new FileProcessingError(`The URL is ${length} characters, over ${MAX_URL_LENGTH}.`, 'INVALID_URL', {
      details: { length, limit: MAX_URL_LENGTH },
    });
  }
  let url: URL;
  try {
    url = new URL(String(input));
  } catch {
    throw new FileProcessingError(`Not a valid URL: ${JSON.stringify(shownInvalid(String(input)))}.`, 'INVALID_URL');
  }
  const shown = safeUrl(url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UrlNotAllowedError(shown, `the ${url.protocol} scheme is not allowed (http and https only)`);
  }
  if (url.username || url.password) throw new UrlNotAllowedError(shown, 'URLs with embedded credentials are refused');
  const host = url.hostname;
  if (policy.allowPrivate || isAllowedHost(host, portOf(url), policy)) return url;
  const ip = canonicalIp(host);
  if (ip) {
    const reason = nonPublicReason(ip);
    if (reason) throw new UrlNotAllowedError(shown, `${host} is ${reason}`);
  } else if (/^(localhost|.*\.localhost|.*\.local|.*\.internal|metadata\.google\.internal)$/i.test(host)) {
    throw new UrlNotAllowedError(shown, `${host} is a local name`);
  }
  return url;
}

/**
 * Resolves a host and refuses it unless every address is allowed; returns the addresses to connect to. `port` is the
 * port the caller will connect to, for `allowHosts` entries that name one (without it only port-less entries match).
 */
export async function resolveChecked(
  host: string,
  policy: NetworkPolicy = {},
  shownUrl = host,
  port?: number,
): Promise<{ address: string; family: number }[]> {
  const literal = canonicalIp(host);
  const addresses = literal
    ? [{ address: literal, family: literal.includes(':') ? 6 : 4 }]
    : await (policy.resolve ?? systemResolver)(host).catch((error: NodeJS.ErrnoException) => {
        throw new FileProcessingError(`Cannot resolve ${host}: ${error.code ?? error.message}.`, 'DOWNLOAD_DNS', {
          transient: TRANSIENT_DNS.has(String(error.code)),
          cause: error,
        });
      });
  if (addresses.length === 0) throw new FileProcessingError(`Cannot resolve ${host}.`, 'DOWNLOAD_DNS');
  if (policy.allowPrivate || isAllowedHost(host, port, policy)) return addresses;
  for (const { address } of addresses) {
    const reason = nonPublicReason(address);
    // The address itself stays out of the message: it may be an internal one the caller never gave (a probe of the
    // server's DNS); its kind is enough to act on.
    if (reason) throw new UrlNotAllowedError(shownUrl, `${host} resolves to ${reason}`);
  }
  return addresses;
}
