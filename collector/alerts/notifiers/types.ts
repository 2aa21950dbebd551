// The one contract every notifier implements. The evaluator hands a notifier groups of alerts
// (one group per rule); the notifier renders a group into the body kept in the outbox, and later
// delivers that body, saying whether to retry, give up, or stop using the notifier (HTTP 410).
import type { Evidence } from '../evidence.js';
import type { Severity } from '../rules.js';

export interface AlertPayload {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  severity: Severity;
  /** ms since epoch */
  startsAt: number;
  /** ms since epoch; null while firing */
  endsAt: number | null;
  fingerprint: string;
  value: number | null;
  /** firing alerts: what the host showed when the notification was queued (collector/alerts/evidence.ts) */
  evidence?: Evidence;
}

export interface NotificationGroup {
  rule: string;
  alerts: AlertPayload[];
}

export interface DeliveryResult {
  outcome: 'delivered' | 'retry' | 'failed' | 'disable';
  status?: number;
  /** the receiver's Retry-After, when it gave one */
  retryAfterMs?: number;
  error?: string;
}

export interface RetryPolicy {
  maxAttempts: number;
  baseMs: number;
  maxMs: number;
}

export interface Notifier {
  /** unique, stable across restarts: the outbox refers to it */
  name: string;
  kind: string;
  /** where it delivers (a URL); a notifier disabled by 410 comes back when this changes */
  target: string;
  retry: RetryPolicy;
  accepts(rule: string): boolean;
  render(group: NotificationGroup): string;
  deliver(message: { id: string; body: string; attempt: number }, now: number): Promise<DeliveryResult>;
}
