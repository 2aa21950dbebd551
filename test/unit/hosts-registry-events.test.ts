// A host's transitions are listed while the save that carries them is away: flush() hands the
// pending transitions to the store and, until the save lands, they were neither pending nor
// stored, so a Hosts page read in that window lost them. A transition both saved and still held
// in memory when the read returns is listed once.
import { describe, expect, it } from 'vitest';
import { HostRegistry } from '../../collector/hosts/registry.js';
import { hostsTiming } from '../../collector/hosts/config.js';
import type { HostEvent, HostStateStore } from '../../collector/storage/types.js';
import { createEvents } from '../../shared/events.js';

/** an in-memory store whose save() and events() wait until the test lets them through */
function gatedStore() {
  const saved: HostEvent[] = [];
  let openSave: (() => void) | undefined;
  let openRead: (() => void) | undefined;
  const store = {
    load: async () => [],
    eventsSince: async () => [],
    save: async (_rows: unknown, events: HostEvent[]) => {
      await new Promise<void>((r) => (openSave = r));
      saved.push(...events);
    },
    events: async (host: string, limit: number) => {
      await new Promise<void>((r) => (openRead = r));
      return saved.filter((e) => e.host === host).reverse().slice(0, limit);
    },
  } as unknown as HostStateStore;
  const waitFor = async (f: () => unknown) => {
    const deadline = Date.now() + 2_000;
    while (!f()) {
      if (Date.now() > deadline) throw new Error('gate never reached');
      await new Promise((r) => setImmediate(r));
    }
  };
  return {
    store,
    saved,
    saveReached: () => waitFor(() => openSave),
    releaseSave: async () => (await waitFor(() => openSave), openSave!(), (openSave = undefined)),
    releaseRead: async () => (await waitFor(() => openRead), openRead!(), (openRead = undefined)),
  };
}

function registry(store: HostStateStore) {
  const now = { t: 1_000_000 };
  const r = new HostRegistry({ store, clock: () => now.t, events: createEvents(), timing: hostsTiming({ retire_after: '1h' }) });
  return { r, now };
}

describe('host registry events during a save', () => {
  it('lists a transition while the save carrying it is in flight', async () => {
    const g = gatedStore();
    const { r } = registry(g.store);
    r.heard('web-1', 1_000_000, { source: 'metrics', agentId: 'agt_1' });
    expect(r.retire('web-1')).toBe(true);
    const flushed = r.flush();
    await g.saveReached();
    const during = r.events('web-1', 10);
    await g.releaseRead();
    expect((await during).map((e) => e.to)).toContain('retired');
    await g.releaseSave();
    await flushed;
    expect(g.saved.map((e) => e.to)).toContain('retired');
  });

  it('lists a transition once when the save lands while the read is away', async () => {
    const g = gatedStore();
    const { r } = registry(g.store);
    r.heard('web-2', 1_000_000, { source: 'metrics', agentId: 'agt_2' });
    r.retire('web-2');
    const flushed = r.flush();
    await g.saveReached();
    const read = r.events('web-2', 10); // takes the in-flight transition, then waits on the store
    await g.releaseSave();
    await flushed;
    await g.releaseRead(); // the store now holds it too
    const got = await read;
    expect(got.filter((e) => e.to === 'retired')).toHaveLength(1);
  });
});
