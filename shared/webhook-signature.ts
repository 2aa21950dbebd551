// Standard Webhooks 1.0 signing, shared by the collector (sender) and `ringtail relaunch`
// (receiver). The signed content is `{id}.{timestamp}.{body}` over the exact body bytes; the
// secret is `whsec_` + base64 of the key bytes. A header may carry several space-separated
// `v1,<base64>` signatures (secret rotation): one match is enough.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';
/** Stripe's and Standard Webhooks' default: older (or later) timestamps are rejected. */
export const DEFAULT_TOLERANCE_S = 300;

export class SignatureError extends Error {
  constructor(
    message: string,
    /** 400: the request is malformed; 401: it does not authenticate */
    readonly status: 400 | 401,
  ) {
    super(message);
    this.name = 'SignatureError';
  }
}

/** Key bytes of a `whsec_…` secret; throws naming what is wrong. */
export function secretKey(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error(`webhook secret must start with '${SECRET_PREFIX}'`);
  const b64 = secret.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new Error('webhook secret: not base64 after whsec_');
  const key = Buffer.from(b64, 'base64');
  if (key.length < 24 || key.length > 64) throw new Error(`webhook secret: key is ${key.length} bytes, expected 24 to 64`);
  return key;
}

export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

/** A fresh message id; the same id is reused for every retry of one message. */
export function messageId(): string {
  return 'msg_' + randomBytes(16).toString('base64url');
}

export function sign(secret: string | Buffer, id: string, timestampS: number, body: string | Buffer): string {
  const key = typeof secret === 'string' ? secretKey(secret) : secret;
  const mac = createHmac('sha256', key);
  mac.update(`${id}.${timestampS}.`);
  mac.update(body);
  return 'v1,' + mac.digest('base64');
}

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

export function signedHeaders(secret: string | Buffer, id: string, nowMs: number, body: string | Buffer): SignedHeaders {
  const ts = Math.floor(nowMs / 1000);
  return { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': sign(secret, id, ts, body) };
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Verifies a request's Standard Webhooks headers against the raw body. Returns the message id.
 * Missing or malformed headers: 400; timestamp outside tolerance or no matching signature: 401.
 */
export function verify(
  secrets: ReadonlyArray<string | Buffer>,
  headers: Record<string, string | string[] | undefined>,
  body: Buffer | string,
  nowMs: number,
  toleranceS = DEFAULT_TOLERANCE_S,
): { id: string; timestamp: number } {
  const id = header(headers, 'webhook-id');
  const tsRaw = header(headers, 'webhook-timestamp');
  const sigRaw = header(headers, 'webhook-signature');
  if (!id || !tsRaw || !sigRaw) throw new SignatureError('missing webhook-id, webhook-timestamp or webhook-signature header', 400);
  if (id.length > 256) throw new SignatureError('webhook-id longer than 256 characters', 400);
  if (!/^\d{1,12}$/.test(tsRaw)) throw new SignatureError(`webhook-timestamp: expected integer seconds, got '${tsRaw.slice(0, 40)}'`, 400);
  const ts = Number(tsRaw);
  const nowS = Math.floor(nowMs / 1000);
  if (ts < nowS - toleranceS) throw new SignatureError(`webhook-timestamp ${ts} is more than ${toleranceS} s old`, 401);
  if (ts > nowS + toleranceS) throw new SignatureError(`webhook-timestamp ${ts} is more than ${toleranceS} s in the future`, 401);
  const given = sigRaw
    .split(' ')
    .filter((s) => s.startsWith('v1,'))
    .map((s) => Buffer.from(s.slice(3), 'base64'));
  if (given.length === 0) throw new SignatureError('webhook-signature: no v1 signature', 401);
  for (const secret of secrets) {
    const expected = Buffer.from(sign(secret, id, ts, body).slice(3), 'base64');
    for (const g of given) {
      if (g.length === expected.length && timingSafeEqual(g, expected)) return { id, timestamp: ts };
    }
  }
  throw new SignatureError('webhook-signature does not match', 401);
}
