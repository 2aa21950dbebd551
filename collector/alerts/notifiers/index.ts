// The one registration point for notifiers: each configured kind maps to its factory here.
// Adding a notifier (mail, chat) means one file in this folder and one line below.
import type { Notifier } from './types.js';
import { webhookNotifier, type WebhookConfig } from './webhook.js';

export interface NotifiersConfig {
  webhooks?: WebhookConfig[];
}

export function buildNotifiers(cfg: NotifiersConfig, externalURL: string): Notifier[] {
  const out: Notifier[] = [];
  for (const w of cfg.webhooks ?? []) out.push(webhookNotifier(w, externalURL));
  const names = new Set<string>();
  for (const n of out) {
    if (names.has(n.name)) throw new Error(`notifier name '${n.name}' is used twice`);
    names.add(n.name);
  }
  return out;
}

export type { Notifier, NotificationGroup, AlertPayload, DeliveryResult } from './types.js';
