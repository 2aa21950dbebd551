// Retire and forget, the operator's two host operations, as one function shared by the API
// (through the running collector) and `ringtail hosts` on a stopped collector's store.
import { ErrorCodes } from '../../shared/errors.js';
import type { EventSink } from '../../shared/events.js';
import type { HostStateStore } from '../storage/types.js';
import type { HostRegistry } from './registry.js';

export interface HostOpDeps {
  registry: HostRegistry;
  store?: HostStateStore;
  /** deletes the host's metric series; returns how many */
  withdraw(host: string): number;
  events: EventSink;
}

/** 'ok', or RINGTAIL_ERR_NOT_FOUND when the collector knows nothing of the host. */
export async function applyHostOp(d: HostOpDeps, op: 'retire' | 'forget', host: string, now: number): Promise<'ok' | typeof ErrorCodes.NOT_FOUND> {
  if (op === 'retire') {
    if (!d.registry.retire(host, now)) return ErrorCodes.NOT_FOUND;
    await d.registry.flush();
    return 'ok';
  }
  // forget: series deleted, lines hidden (then purged in slices), record and transitions dropped;
  // the store first: when it cannot be reached (ClickHouse) the error answers and nothing is dropped
  const stored = (await d.store?.forget(host, now)) ?? false;
  const inRegistry = d.registry.remove(host);
  const series = d.withdraw(host);
  await d.registry.flush();
  if (!inRegistry && series === 0 && !stored) return ErrorCodes.NOT_FOUND;
  d.events.emit('host.forgotten', { host, series });
  return 'ok';
}
