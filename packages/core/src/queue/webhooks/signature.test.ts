import { describe, expect, test } from 'bun:test';
import { createHash, createHmac } from 'node:crypto';
import { signWebhook, verifyWebhook, webhookSecretForKey } from './signature.ts';

const secret = 'endpoint-secret-0123456789';
const body = JSON.stringify({ id: 'd1', type: 'task.finished', taskId: 't1', createdAt: '', data: { status: 'ok' } });
const now = 1_800_000_000;

describe('webhook signatures', () => {
  test('the documented recipe: hex HMAC-SHA256 of `t.body`, header `t=…,v1=…`', () => {
    const expected = createHmac('sha256', secret).update(`${now}.${body}`).digest('hex');
    expect(signWebhook(body, secret, now)).toBe(`t=${now},v1=${expected}`);
    expect(verifyWebhook({ body, signature: `t=${now},v1=${expected}`, secret, now }).data).toEqual({ status: 'ok' });
  });

  test('a changed body, another secret, a missing or malformed header are refused', () => {
    const signature = signWebhook(body, secret, now);
    const refuse = (input: Partial<Parameters<typeof verifyWebhook>[0]>) =>
      expect(() => verifyWebhook({ body, signature, secret, now, ...input })).toThrow(
        expect.objectContaining({ code: 'WEBHOOK_SIGNATURE_INVALID' }),
      );
    refuse({ body: body.replace('ok', 'ko') });
    refuse({ secret: 'another-secret-0123456789' });
    refuse({ signature: null });
    refuse({ signature: 'v1=abc' });
    refuse({ signature: `t=${now},v1=zz` });
    refuse({ signature: 'x'.repeat(5000) });
  });

  test('replays are refused outside the tolerance (5 minutes by default), either way in time', () => {
    const signature = signWebhook(body, secret, now);
    expect(() => verifyWebhook({ body, signature, secret, now: now + 301 })).toThrow('outside ±300 s');
    expect(() => verifyWebhook({ body, signature, secret, now: now - 301 })).toThrow('outside ±300 s');
    expect(verifyWebhook({ body, signature, secret, now: now + 299 }).id).toBe('d1');
    expect(() => verifyWebhook({ body, signature, secret, now: now + 61, toleranceSeconds: 60 })).toThrow();
  });

  test("an API key's webhook secret is the SHA-256 of its secret part (what the server stores)", () => {
    const part = 'abc_def-ghijklmnopqrstuvwxyz0123456789ABCDEF';
    expect(webhookSecretForKey(`mfk_0123456789ab_${part}`)).toBe(createHash('sha256').update(part).digest('hex'));
  });
});
