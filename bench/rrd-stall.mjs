// `node bench/rrd-stall.mjs` (after `npm run build`): how long the collector's update calls
// and fetches take once the journal holds `checkpointUpdates` (200,000) pending updates —
// 1,000 series of the default host layout, 450 rounds of one update per series (the 200th
// crosses the threshold), then a fetch every 10 rounds from the 250th. Each call runs on the collector's event loop, so its duration is a stall.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDefs } from '../dist/collector/rrd/defs.js';
import { openRrdStore } from '../dist/collector/rrd/sqlite-store.js';

const LAYOUT = [
  'DS:v:GAUGE:20:U:U',
  'RRA:AVERAGE:0.5:1:8640', 'RRA:AVERAGE:0.5:6:10080', 'RRA:AVERAGE:0.5:30:8928', 'RRA:AVERAGE:0.5:360:8784',
  'RRA:MIN:0.5:6:10080', 'RRA:MAX:0.5:6:10080', 'RRA:MIN:0.5:360:8784', 'RRA:MAX:0.5:360:8784',
];
const SERIES = 1000;
const ROUNDS = 450;
const T0 = 1_700_000_000;

const dir = mkdtempSync(join(tmpdir(), 'ringtail-stall-'));
const store = openRrdStore(join(dir, 'metrics.db'), { create: true });
const def = parseDefs(LAYOUT, 10);
for (let i = 0; i < SERIES; i++) store.create(`s${i}`, def, { start: T0 });
const updates = [];
const fetches = [];
for (let r = 1; r <= ROUNDS; r++) {
  const items = [];
  for (let i = 0; i < SERIES; i++) items.push({ series: `s${i}`, args: [`${T0 + 10 * r}:${(i * r) % 100}`] });
  let t = performance.now();
  store.updateMany(items);
  updates.push(performance.now() - t);
  if (r > 250 && r % 10 === 0) {
    t = performance.now();
    store.fetch(`s${r % SERIES}`, 'AVERAGE', { start: T0, end: T0 + 10 * r });
    fetches.push(performance.now() - t);
  }
}
store.close();
rmSync(dir, { recursive: true, force: true });

const q = (a, p) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(p * a.length))].toFixed(1);
console.log(`update call ms: p50 ${q(updates, 0.5)}, p99 ${q(updates, 0.99)}, max ${Math.max(...updates).toFixed(1)}`);
console.log(`fetch ms: p50 ${q(fetches, 0.5)}, max ${Math.max(...fetches).toFixed(1)}`);
