// `npm run bench -- fleet --seed`: the month's store built in minutes instead of the 53 the
// simulated span takes, so that the appearing phase (1,000 hosts in one real minute) can be
// measured on a store of month scale as often as a change needs.
//
// One host of each kind is simulated through the store's own calls (createMany with the
// collector's layouts, updateMany of the very samples the simulated span would send: a
// permanent host's month, an ephemeral host's 2 h life); every other host's series are copies
// of its template's (cloneSeries: definition, state and archived chunks), host by host in the
// order the span creates them, so series ids, the name index and the chunk table have the
// month's sizes and order. The host table gets every host as the span leaves it (permanent up,
// ephemeral retired, with their up/retired events). What is not seeded: log lines (the logs'
// database stays small), the chunk contents' ring positions (every ephemeral copy holds its
// template's rows at the template's slots) and, with `--seed-no-ephemeral-chunks`, ephemeral
// hosts' archived chunks altogether (the 32 GB of a month that the appearing phase never reads).
import type { Sample } from '../../agent/metrics/types.js';
import { metricKey, seriesName } from '../../collector/metrics/key.js';
import { createLayouts } from '../../collector/metrics/layout.js';
import { openRrdStore } from '../../collector/rrd/sqlite-store.js';
import type { HostEvent, HostStateRow, HostStateStore } from '../../collector/storage/types.js';

export interface SeedHost {
  name: string;
  ephemeral: boolean;
  /** simulated seconds: samples at from, from + interval, … before to */
  from: number;
  to: number;
  tick: number;
}

/** hosts copied per commit */
const HOSTS_PER_COMMIT = 50;

export function seedMonth(opts: {
  path: string;
  hostStates: HostStateStore | undefined;
  hosts: SeedHost[];
  template: Sample[];
  interval: number;
  value: (s: Sample, tick: number, k: number) => number;
  log: (line: string) => void;
  /**
   * false: ephemeral hosts' series get their definition and state but no archived chunks (the
   * month's 32 GB that the appearing phase never reads, which take half an hour to write here)
   */
  ephemeralChunks: boolean;
}): { series: number; seconds: number } {
  const started = Date.now();
  const { hosts, template, interval } = opts;
  const layouts = createLayouts();
  const keys = template.map((s) => metricKey(s.name, s.labels));
  const store = openRrdStore(opts.path, { create: true, synchronous: 'NORMAL' });
  const templates = new Map<boolean, SeedHost>();
  // the templates: each kind's first host, simulated sample by sample (its ticks as the span's)
  for (const h of hosts) {
    if (templates.has(h.ephemeral)) continue;
    templates.set(h.ephemeral, h);
    const stamps: number[] = [];
    for (let t = h.from; t < h.to; t += interval) stamps.push(t);
    store.createMany(template.map((s, k) => ({ name: seriesName(h.name, keys[k]!), def: layouts.define(s.name, s.type, interval * 1000), start: stamps[0]! - 1 })));
    for (let i = 0; i < stamps.length; i += 100) {
      const part = stamps.slice(i, i + 100);
      const args = template.map(() => [] as string[]);
      for (const t of part) {
        h.tick++;
        template.forEach((s, k) => args[k]!.push(`${t}:${opts.value(s, h.tick, k)}`));
      }
      store.updateMany(template.map((_, k) => ({ series: seriesName(h.name, keys[k]!), args: args[k]! })));
    }
    store.checkpoint();
  }
  // every other host: its template's series copied, in the span's order of creation
  let batch: Array<{ from: string; name: string; chunks: boolean }> = [];
  let n = 0;
  for (const h of hosts) {
    const tpl = templates.get(h.ephemeral)!;
    if (tpl === h) continue;
    h.tick = tpl.tick;
    for (const key of keys) batch.push({ from: seriesName(tpl.name, key), name: seriesName(h.name, key), chunks: !h.ephemeral || opts.ephemeralChunks });
    if (++n % HOSTS_PER_COMMIT === 0) {
      store.cloneSeries(batch);
      batch = [];
      if (n % (HOSTS_PER_COMMIT * 40) === 0) opts.log(`  seeded ${n} of ${hosts.length} hosts, ${((Date.now() - started) / 1000).toFixed(0)} s`);
    }
  }
  if (batch.length > 0) store.cloneSeries(batch);
  const series = store.list().length;
  store.close();

  if (opts.hostStates) {
    const now = Date.now();
    let rows: HostStateRow[] = [];
    let events: HostEvent[] = [];
    for (const h of hosts) {
      const first = h.from * 1000;
      const last = h.ephemeral ? h.to * 1000 : now;
      rows.push({ host: h.name, first_seen: first, last_seen: last, state: h.ephemeral ? 'retired' : 'up', state_since: h.ephemeral ? last + 3_600_000 : first, ephemeral: h.ephemeral, interval_ms: 10_000, sources: ['logs', 'metrics'], agent_id: `agt_${h.name}` });
      events.push({ ts: first, host: h.name, from: null, to: 'up' });
      if (h.ephemeral) events.push({ ts: last + 3_600_000, host: h.name, from: 'up', to: 'retired' });
      if (rows.length >= 5000) {
        opts.hostStates.save(rows, events, []);
        rows = [];
        events = [];
      }
    }
    if (rows.length > 0) opts.hostStates.save(rows, events, []);
  }
  return { series, seconds: (Date.now() - started) / 1000 };
}
