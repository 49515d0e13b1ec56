/**
 * How an answer under attack is judged. A 2xx is accepted; a 4xx must carry a typed code; a 503 SERVER_BUSY or
 * OVERLOADED with Retry-After (and a 429 with Retry-After) is the server shedding load on purpose, counted apart;
 * any other 5xx, or no answer at all, is unexpected.
 */
import { Tally } from './net.ts';

export type Verdict =
  | 'accepted'
  | 'refused'
  | 'shed'
  | 'untyped 4xx'
  | 'unexpected 5xx'
  | 'no answer'
  | 'closed by the server';

export function judge(status: number, code: string, retryAfter: string): Verdict {
  if (status === 0) return 'no answer';
  if (status < 300) return 'accepted';
  if ((status === 429 || (status === 503 && ['SERVER_BUSY', 'OVERLOADED'].includes(code))) && retryAfter !== '')
    return 'shed';
  if (status >= 500) return 'unexpected 5xx';
  return code ? 'refused' : 'untyped 4xx';
}

/** Answers of one attack: by verdict, and by `status code` for the report. */
export class Outcomes {
  readonly verdicts = new Tally();
  readonly answers = new Tally();
  /** Up to ten answers that were neither accepted, refused nor shed, for the failure message. */
  readonly surprises: string[] = [];

  /** `tolerated`: verdicts this kind of request may also get without being a surprise (still counted). */
  add(status: number, code: string, retryAfter: string, what = '', tolerated: Verdict[] = []): Verdict {
    const verdict = judge(status, code, retryAfter);
    this.tally(
      verdict,
      status === 0 ? `no answer${code ? ` (${code.slice(0, 60)})` : ''}` : `${status}${code ? ` ${code}` : ''}`,
    );
    if (!['accepted', 'refused', 'shed', ...tolerated].includes(verdict) && this.surprises.length < 10)
      this.surprises.push(`${what}: ${status} ${code}`);
    return verdict;
  }

  /** A socket the server closed without answering: what a stalled body is owed once its timeout passes. */
  closed(): void {
    this.tally('closed by the server', 'closed without an answer');
  }

  private tally(verdict: Verdict, answer: string): void {
    this.verdicts.add(verdict);
    this.answers.add(answer);
  }

  count(verdict: Verdict): number {
    return this.verdicts.counts[verdict] ?? 0;
  }
}

/** One request through fetch, answered as the verdict needs it. */
export async function send(
  url: URL,
  init: RequestInit,
): Promise<{ status: number; code: string; retryAfter: string; ms: number; body: string }> {
  const started = performance.now();
  try {
    // A fresh connection per request: reusing one that the server's idle timeout (3 s here) is closing at that very
    // moment is the keep-alive race every HTTP client meets (the request is reset unseen, and a POST is not retried),
    // which says nothing about the server. Under a storm on two cores, connections sit idle that long.
    const response = await fetch(url, { ...init, keepalive: false });
    const body = await response.text();
    let code = '';
    try {
      code = (JSON.parse(body) as { error?: { code?: string } }).error?.code ?? '';
    } catch {}
    return {
      status: response.status,
      code,
      retryAfter: response.headers.get('retry-after') ?? '',
      ms: performance.now() - started,
      body,
    };
  } catch (error) {
    return { status: 0, code: String(error).slice(0, 120), retryAfter: '', ms: performance.now() - started, body: '' };
  }
}
