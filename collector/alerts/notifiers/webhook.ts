// Webhook notifier: Alertmanager's webhook body version 4 (so receivers written for
// Alertmanager work unchanged), signed per Standard Webhooks when a `whsec_` secret is set.
// Alertmanager itself does not sign (alertmanager #4248); the signature headers are additive.
import { Type, type Static } from '@sinclair/typebox';
import { secretKey, signedHeaders } from '../../../shared/webhook-signature.js';
import { globToRegExp } from '../rules.js';
import type { AlertPayload, DeliveryResult, NotificationGroup, Notifier } from './types.js';

export const WebhookConfig = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}$' }),
    url: Type.String({ pattern: '^https?://\\S+$' }),
    /** `whsec_` + base64 key; unsigned when absent */
    secret: Type.Optional(Type.String({ minLength: 10 })),
    /** rule name globs this webhook receives; all rules when absent */
    rules: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    timeout_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 120_000 })),
    max_attempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    backoff_base_ms: Type.Optional(Type.Integer({ minimum: 10, maximum: 3_600_000 })),
    backoff_max_ms: Type.Optional(Type.Integer({ minimum: 10, maximum: 86_400_000 })),
  },
  { additionalProperties: false },
);
export type WebhookConfig = Static<typeof WebhookConfig>;

/**
 * At most this many alerts of one body carry evidence (the first ones): a group of many hosts
 * still makes a bounded body (each evidence is bounded in collector/alerts/evidence.ts).
 */
export const MAX_EVIDENCE_ALERTS = 10;

/** Alertmanager's "zero" time, carried by `endsAt` while an alert fires. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

function common(maps: Array<Record<string, string>>): Record<string, string> {
  const [first, ...rest] = maps;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(first ?? {})) if (rest.every((m) => m[k] === v)) out[k] = v;
  return out;
}

export function alertmanagerBody(group: NotificationGroup, receiver: string, externalURL: string): object {
  const anyFiring = group.alerts.some((a) => a.status === 'firing');
  const base = externalURL.replace(/\/+$/, '');
  return {
    version: '4',
    groupKey: `{}:{alertname=${JSON.stringify(group.rule)}}`,
    truncatedAlerts: 0,
    status: anyFiring ? 'firing' : 'resolved',
    receiver,
    groupLabels: { alertname: group.rule },
    commonLabels: common(group.alerts.map((a) => a.labels)),
    commonAnnotations: common(group.alerts.map((a) => a.annotations)),
    externalURL: base,
    alerts: group.alerts.map((a: AlertPayload, i) => ({
      status: a.status,
      labels: a.labels,
      annotations: a.annotations,
      startsAt: new Date(a.startsAt).toISOString(),
      endsAt: a.endsAt === null ? ZERO_TIME : new Date(a.endsAt).toISOString(),
      generatorURL: `${base}/api/v1/alerts/history?rule=${encodeURIComponent(group.rule)}`,
      fingerprint: a.fingerprint,
      // An extra field: Alertmanager receivers ignore keys they do not know.
      ...(a.evidence !== undefined && i < MAX_EVIDENCE_ALERTS ? { ringtail: { evidence: a.evidence } } : {}),
    })),
  };
}

/** `Retry-After` as seconds or an HTTP date, in ms from now; undefined when absent or unreadable. */
export function parseRetryAfter(raw: string | null, now: number): number | undefined {
  if (!raw) return undefined;
  if (/^\d+$/.test(raw.trim())) return Number(raw.trim()) * 1000;
  const t = Date.parse(raw);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

export function webhookNotifier(cfg: WebhookConfig, externalURL: string): Notifier {
  const key = cfg.secret !== undefined ? secretKey(cfg.secret) : null;
  const globs = cfg.rules?.map(globToRegExp) ?? null;
  const timeout = cfg.timeout_ms ?? 10_000;
  return {
    name: cfg.name,
    kind: 'webhook',
    target: cfg.url,
    retry: { maxAttempts: cfg.max_attempts ?? 12, baseMs: cfg.backoff_base_ms ?? 1000, maxMs: cfg.backoff_max_ms ?? 600_000 },
    accepts: (rule) => globs === null || globs.some((g) => g.test(rule)),
    render: (group) => JSON.stringify(alertmanagerBody(group, cfg.name, externalURL)),
    async deliver(message, now): Promise<DeliveryResult> {
      const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'ringtail-alerts' };
      if (key) Object.assign(headers, signedHeaders(key, message.id, now, message.body));
      else headers['webhook-id'] = message.id;
      let res: Response;
      try {
        res = await fetch(cfg.url, { method: 'POST', headers, body: message.body, signal: AbortSignal.timeout(timeout), redirect: 'manual' });
      } catch (err) {
        const cause = (err as { cause?: { code?: string } }).cause?.code;
        return { outcome: 'retry', error: `${(err as Error).name}: ${cause ?? (err as Error).message}` };
      }
      await res.arrayBuffer().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) return { outcome: 'delivered', status: res.status };
      if (res.status === 410) return { outcome: 'disable', status: 410, error: 'receiver answered 410 Gone' };
      return { outcome: 'retry', status: res.status, retryAfterMs: parseRetryAfter(res.headers.get('retry-after'), now), error: `HTTP ${res.status}` };
    },
  };
}
