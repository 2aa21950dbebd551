// Webhook ids derived from what a notification announces, not drawn at random: with several
// collectors on one shared store (docs/scale-out.md), a standby that takes over may decide a
// notification the primary already sent (the primary's state commit was lost, or both evaluated
// for a moment around a takeover). Both then send the same `webhook-id`, so a receiver that
// drops repeated ids (`ringtail relaunch`, Standard Webhooks' idempotency) acts once.
//
// An alert's part of the id is its occasion: resolved or firing, its fingerprint (rule, host,
// series labels and severity), when it started firing, and for a repeated firing notification
// when the one before it was sent (persisted with the instance's state, so every collector
// reading that state computes the same id; the time of the repeat itself differs per collector).
import { createHash } from 'node:crypto';

export interface Occasion {
  status: 'firing' | 'resolved';
  fingerprint: string;
  startsAt: number;
  /** a repeated firing notification: when the previous one for this firing was sent; else null */
  after: number | null;
}

export function occasionKey(o: Occasion): string {
  return `${o.status}\u0000${o.fingerprint}\u0000${o.startsAt}\u0000${o.after ?? ''}`;
}

/** The id of one notification (one notifier, one rule's group of alerts): `msg_` + 22 base64url characters, as messageId(). */
export function notificationId(notifier: string, rule: string, occasions: readonly Occasion[]): string {
  const h = createHash('sha256');
  h.update(`ringtail-notification\u0000${notifier}\u0000${rule}\u0000`);
  // the order alerts were met in a cycle is not part of the occasion
  for (const k of occasions.map(occasionKey).sort()) h.update(k + '\u0001');
  return 'msg_' + h.digest().subarray(0, 16).toString('base64url');
}
