// Standard Webhooks signatures, checked against HMAC-SHA256 computed here independently over
// the exact string `${id}.${timestamp}.${body}`.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateSecret, secretKey, sign, signedHeaders, SignatureError, verify } from '../../shared/webhook-signature.js';

// The example secret and message from the Standard Webhooks specification's test vectors.
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const TS = 1614265330;
const BODY = '{"test": 2432232314}';

function independent(secret: string, id: string, ts: number, body: string): string {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  return 'v1,' + createHmac('sha256', key).update(`${id}.${ts}.${body}`, 'utf8').digest('base64');
}

describe('webhook signature', () => {
  it('matches the specification vector and an independent computation', () => {
    expect(sign(SECRET, ID, TS, BODY)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
    expect(sign(SECRET, ID, TS, BODY)).toBe(independent(SECRET, ID, TS, BODY));
  });

  it.each([
    ['unicode body', 'héllo ✓ {"a":"b"}'],
    ['empty body', ''],
    ['newlines', 'a\nb\r\n'],
  ])('agrees with the independent HMAC for %s', (_n, body) => {
    const secret = generateSecret();
    expect(sign(secret, 'msg_1', 1700000000, body)).toBe(independent(secret, 'msg_1', 1700000000, body));
  });

  const now = TS * 1000;
  const good = { 'webhook-id': ID, 'webhook-timestamp': String(TS), 'webhook-signature': sign(SECRET, ID, TS, BODY) };

  it('verifies a good request, also among several signatures (rotation)', () => {
    expect(verify([SECRET], good, BODY, now)).toEqual({ id: ID, timestamp: TS });
    const rotated = { ...good, 'webhook-signature': `v1,AAAA ${good['webhook-signature']}` };
    expect(verify([SECRET], rotated, Buffer.from(BODY), now).id).toBe(ID);
    expect(verify([generateSecret(), SECRET], good, BODY, now).id).toBe(ID);
  });

  it.each([
    ['a changed body', good, BODY + ' ', 401, 'does not match'],
    ['another id', { ...good, 'webhook-id': 'msg_other' }, BODY, 401, 'does not match'],
    ['a shifted timestamp', { ...good, 'webhook-timestamp': String(TS + 1) }, BODY, 401, 'does not match'],
    ['a stale timestamp', { ...good, 'webhook-timestamp': String(TS - 301) }, BODY, 401, 'more than 300 s old'],
    ['a future timestamp', { ...good, 'webhook-timestamp': String(TS + 301) }, BODY, 401, 'in the future'],
    ['no signature header', { 'webhook-id': ID, 'webhook-timestamp': String(TS) }, BODY, 400, 'missing'],
    ['a non-numeric timestamp', { ...good, 'webhook-timestamp': '12abc' }, BODY, 400, 'integer seconds'],
    ['a v2 signature only', { ...good, 'webhook-signature': 'v2,abc' }, BODY, 401, 'no v1'],
  ])('rejects %s', (_n, headers, body, status, msg) => {
    try {
      verify([SECRET], headers as Record<string, string>, body, now);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(SignatureError);
      expect((err as SignatureError).status).toBe(status);
      expect((err as Error).message).toContain(msg);
    }
  });

  it('rejects malformed secrets', () => {
    expect(() => secretKey('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toThrow('whsec_');
    expect(() => secretKey('whsec_!!!')).toThrow('base64');
    expect(() => secretKey('whsec_AAAA')).toThrow('bytes');
  });

  it('signedHeaders uses whole seconds of the given clock', () => {
    const h = signedHeaders(SECRET, ID, TS * 1000 + 999, BODY);
    expect(h['webhook-timestamp']).toBe(String(TS));
    expect(h['webhook-signature']).toBe(independent(SECRET, ID, TS, BODY));
  });
});
