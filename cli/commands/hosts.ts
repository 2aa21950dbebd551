// `ringtail hosts list|retire|forget`: works on the collector's store, running or not. A running
// collector keeps host state in memory, so retire and forget are queued in its database
// (host_requests) and applied by its next sweep; the command waits for the answer. When no
// collector has swept lately (none is running), the command claims the request and applies it
// to the store itself: the same operation (collector/hosts/ops.ts), series included.
// With --storage clickhouse (a store several collectors share) the command acts on the shared
// store directly, as a collector's API would (hosts-shared.ts).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { hostsTiming } from '../../collector/hosts/config.js';
import { applyHostOp } from '../../collector/hosts/ops.js';
import { HostRegistry } from '../../collector/hosts/registry.js';
import { META_SWEEP_MS, META_TICK_AT } from '../../collector/hosts/service.js';
import { METRICS_DB } from '../../collector/metrics/files.js';
import { splitSeriesName } from '../../collector/metrics/key.js';
import { openRrdStore } from '../../collector/rrd/sqlite-store.js';
import { openStorage, storageConfig } from '../../collector/storage/factory.js';
import { HOST_STATES, type Storage } from '../../collector/storage/types.js';
import { createEvents } from '../../shared/events.js';
import { HOST_PATTERN } from '../../shared/wire.js';
import { CollectorConfig } from '../../collector/config.js';
import { withOptions, type Command } from '../command.js';
import { listShared, runSharedOp } from './hosts-shared.js';

const Data = Type.String({ minLength: 1, default: './data', description: 'collector data directory' });
// where the host states are: the collector's data directory, or the collector's own ClickHouse
// options (--storage clickhouse --clickhouse-url … --clickhouse-database …)
const Where = { data: Data, storage: CollectorConfig.properties.storage, clickhouse: CollectorConfig.properties.clickhouse };
const Host = Type.String({ minLength: 1, maxLength: 255, pattern: HOST_PATTERN, description: 'host name, as hosts list shows it', errorMessage: 'expected 1 to 255 characters without control characters' });
const ListOptions = Type.Object(
  {
    ...Where,
    state: Type.Optional(Type.String({ pattern: `^(${HOST_STATES.join('|')})(,(${HOST_STATES.join('|')}))*$`, description: 'only these states, comma-separated (up, stale, down, retired)' })),
    include_retired: Type.Boolean({ default: false, description: 'list retired hosts too' }),
  },
  { additionalProperties: false },
);
const OpOptions = Type.Object(
  {
    ...Where,
    host: Host,
    wait_ms: Type.Integer({ minimum: 0, maximum: 600_000, default: 30_000, description: 'how long to wait for a running collector to apply it (ClickHouse: for a metric lease another collector holds)' }),
  },
  { additionalProperties: false },
);
type OpOptions = Static<typeof OpOptions>;

const SUBCOMMANDS = 'list, retire or forget';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A collector that swept within three sweep intervals (15 s at least) is taken as running. */
async function collectorRunning(storage: Storage, now: number): Promise<boolean> {
  const at = await storage.hostStates!.getMeta(META_TICK_AT);
  const every = (await storage.hostStates!.getMeta(META_SWEEP_MS)) ?? 5000;
  return at !== null && now - at < Math.max(3 * every, 15_000) && now >= at - 60_000;
}

/** Deletes the host's series from the metric store (the collector is not running). */
function withdrawOffline(data: string, host: string): number {
  const path = join(data, METRICS_DB);
  if (!existsSync(path)) return 0;
  const store = openRrdStore(path);
  try {
    let n = 0;
    for (const name of store.list()) if (splitSeriesName(name)?.host === host && store.delete(name)) n++;
    return n;
  } finally {
    store.close();
  }
}

async function runOp(op: 'retire' | 'forget', o: OpOptions): Promise<number> {
  const config = storageConfig(o);
  if (config.backend === 'clickhouse') return runSharedOp(op, config, o.host, o.wait_ms);
  const storage = openStorage(config);
  try {
    const hs = storage.hostStates!;
    const id = await hs.enqueue(o.host, op, Date.now());
    let result: string | null = null;
    if (await collectorRunning(storage, Date.now())) {
      const deadline = Date.now() + o.wait_ms;
      while (Date.now() < deadline) {
        const r = await hs.request(id);
        if (r?.done_at != null) {
          result = r.result;
          break;
        }
        await sleep(100);
      }
    }
    if (result === null) {
      // nobody answered: claim it (a collector that picks it up meanwhile wins the claim instead)
      const mine = (await hs.claim(`cli:${process.pid}`)).filter((r) => r.id === id);
      if (mine.length === 0) {
        process.stderr.write(`ringtail: RINGTAIL_ERR_STORAGE ${op} of '${o.host}' was taken by a collector but not answered within ${o.wait_ms} ms\n`);
        return 1;
      }
      const events = createEvents();
      const registry = new HostRegistry({ store: hs, clock: Date.now, events, timing: hostsTiming() });
      await registry.load();
      for (const h of await storage.logs.hosts()) registry.adopt(h.host, h.first_seen, h.last_seen, 'logs');
      result = await applyHostOp({ registry, store: hs, withdraw: (h) => withdrawOffline(o.data, h), events }, op, o.host, Date.now());
      await hs.finish(id, result, Date.now());
    }
    if (result !== 'ok') {
      process.stderr.write(`ringtail: ${result} --host: no host '${o.host}' is known\n`);
      return 1;
    }
    process.stdout.write(JSON.stringify({ host: o.host, [op === 'retire' ? 'retired' : 'forgotten']: true }) + '\n');
    return 0;
  } finally {
    storage.close();
  }
}

export const hostsCommand: Command = {
  name: 'hosts',
  summary: `Host lifecycle (${SUBCOMMANDS}).`,
  async run(argv) {
    const [sub, ...rest] = argv;
    switch (sub) {
      case 'list':
        return withOptions<Static<typeof ListOptions>>(
          'ringtail hosts list [--data DIR | --storage clickhouse --clickhouse-url URL] [--state up,stale,down,retired] [--include-retired]',
          'List hosts with their lifecycle state as JSON lines (as the collector last saved them).',
          ListOptions,
          rest,
          async (o) => {
            const config = storageConfig(o);
            const storage = config.backend === 'clickhouse' ? null : openStorage(config);
            try {
              const states = o.state ? new Set(o.state.split(',')) : null;
              const rows = (storage ? await storage.hostStates!.load() : await listShared(config)).sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
              for (const r of rows) {
                if (states ? !states.has(r.state) : r.state === 'retired' && !o.include_retired) continue;
                process.stdout.write(JSON.stringify(r) + '\n');
              }
            } finally {
              storage?.close();
            }
            return 0;
          },
        );
      case 'retire':
        return withOptions<OpOptions>(
          'ringtail hosts retire --host NAME [--data DIR | --storage clickhouse --clickhouse-url URL] [--wait-ms N]',
          'Retire a host now: it leaves the default host list and host-scoped alert rules; its data stays. It comes back when it reports again.',
          OpOptions,
          rest,
          (o) => runOp('retire', o),
        );
      case 'forget':
        return withOptions<OpOptions>(
          'ringtail hosts forget --host NAME [--data DIR | --storage clickhouse --clickhouse-url URL] [--wait-ms N]',
          'Forget a host: its metric series are deleted and its log lines hidden (then deleted). A host that reports again comes back as new.',
          OpOptions,
          rest,
          (o) => runOp('forget', o),
        );
      case '--help':
      case '-h':
      case undefined:
        process.stdout.write(`Usage: ringtail hosts <list|retire|forget> [options]\n\n${hostsCommand.summary}\nSee ringtail hosts forget --help.\n`);
        return sub === undefined ? 2 : 0;
      default:
        process.stderr.write(`ringtail: RINGTAIL_ERR_USAGE hosts ${sub}: unknown subcommand (expected ${SUBCOMMANDS})\n`);
        return 2;
    }
  },
};
