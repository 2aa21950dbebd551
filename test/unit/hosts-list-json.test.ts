// The hosts listing as JSON text keeps each record's JSON between listings (30,000 retired
// hosts were serialised again for every "show retired"): the text is always what serialising
// list() gives, after any change to any record, and an unchanged record is not serialised again.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { hostsTiming } from '../../collector/hosts/config.js';
import { HostRegistry } from '../../collector/hosts/registry.js';
import type { HostState } from '../../collector/storage/types.js';
import { createEvents } from '../../shared/events.js';
import { rng as makeRng } from '../helpers/rng.js';

describe('host listing as JSON', () => {
  afterEach(() => vi.restoreAllMocks());

  it('equals JSON.stringify(list()) for every filter after random hearing, adoption, silence, retirement, return and removal', () => {
    const now = { t: 1_000_000 };
    const r = new HostRegistry({ clock: () => now.t, events: createEvents(), timing: hostsTiming({ retire_after: '1h', down_after: '5m' }) });
    const rand = makeRng(11);
    const filters: Array<{ states?: ReadonlySet<HostState>; includeRetired?: boolean }> = [{}, { includeRetired: true }, { states: new Set<HostState>(['retired']) }, { states: new Set<HostState>(['stale', 'down']) }];
    const check = () => {
      for (const f of filters) expect(r.listJson(f)).toBe(JSON.stringify(r.list(f)));
    };
    for (let i = 0; i < 4000; i++) {
      const name = `h-${Math.floor(rand() * 300)}`;
      const op = rand();
      now.t += Math.floor(rand() * 20_000);
      if (op < 0.35) {
        // every field an agent can change: ephemeral, interval, agent id, sources
        r.heard(name, now.t, { source: rand() < 0.5 ? 'metrics' : 'logs', agentId: `agt_${Math.floor(rand() * 3)}`, ephemeral: rand() < 0.5, intervalMs: rand() < 0.5 ? 10_000 : 60_000 });
      } else if (op < 0.45) {
        r.heard(name, now.t, { source: 'syslog' });
      } else if (op < 0.6) {
        r.adopt(name, now.t - 5000, now.t - Math.floor(rand() * 10_000_000), rand() < 0.5 ? 'logs' : 'metrics');
      } else if (op < 0.75) {
        r.retire(name, now.t);
      } else if (op < 0.85) {
        r.sweep(now.t + Math.floor(rand() * 7_200_000));
      } else {
        r.remove(name);
      }
      if (i % 50 === 0) check();
    }
    check();
  });

  it('a second listing of unchanged records serialises none of them; a changed one is serialised again', () => {
    const now = { t: 1_000_000 };
    const r = new HostRegistry({ clock: () => now.t, events: createEvents(), timing: hostsTiming({ retire_after: '1h' }) });
    for (let i = 0; i < 1000; i++) r.heard(`old-${String(i).padStart(4, '0')}`, now.t, { source: 'metrics', agentId: `agt_${i}`, ephemeral: true });
    for (let i = 0; i < 1000; i++) r.retire(`old-${String(i).padStart(4, '0')}`, now.t);
    const first = r.listJson({ includeRetired: true });
    const stringify = vi.spyOn(JSON, 'stringify');
    expect(r.listJson({ includeRetired: true })).toBe(first);
    expect(stringify).toHaveBeenCalledTimes(0);
    // one comes back: only it is serialised again, and the text says it is up
    now.t += 1000;
    r.heard('old-0500', now.t, { source: 'metrics', agentId: 'agt_500', ephemeral: true });
    const again = r.listJson({ includeRetired: true });
    expect(stringify).toHaveBeenCalledTimes(1);
    stringify.mockRestore();
    expect(again).toBe(JSON.stringify(r.list({ includeRetired: true })));
    expect(JSON.parse(again).find((h: { host: string }) => h.host === 'old-0500').state).toBe('up');
  });
});
