// A seeded fuzz pass over the ingest wire (shared/wire.ts): valid IngestBatch, NDJSON multi-batch
// and MetricBatch bodies, mutated at the value, text, byte and transport level, POSTed with
// inject(). Invariants for every case: never a 5xx; every 4xx body is {error: RINGTAIL_ERR_*,
// message}; a refused request stores nothing (the log store's highest id is unchanged) and an
// accepted one stores exactly what its ack counts; lines and samples accepted before the run are
// still there after it. Replay one seed with RINGTAIL_FUZZ_SEED=<n>.
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INGEST_AFTER_HEADER, INGEST_MULTI_TYPE, WIRE_VERSION, type IngestBatch, type MetricBatch } from '../../shared/wire.js';
import { metricKey, parseMetricKey } from '../../collector/metrics/key.js';
import { batchOf, testCollector, type TestCollector } from '../helpers/collector.js';
import { rng } from '../helpers/rng.js';

// RINGTAIL_FUZZ_SEED=7 replays one seed; RINGTAIL_FUZZ_SEED=10-60 explores a range
const SEEDS = seedsFrom(process.env.RINGTAIL_FUZZ_SEED) ?? [1, 2, 3, 4];
function seedsFrom(env: string | undefined): number[] | null {
  const m = env ? /^(\d+)(?:-(\d+))?$/.exec(env) : null;
  if (!m) return null;
  const a = Number(m[1]);
  const b = m[2] ? Number(m[2]) : a;
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}
const METRIC_TYPES = ['GAUGE', 'COUNTER', 'DERIVE', 'ABSOLUTE'] as const;
const CASES_PER_SEED = 120;
const BODY_LIMIT = 256 * 1024; // testCollector's

type Target = 'logs' | 'ndjson' | 'metrics';
interface Case {
  target: Target;
  what: string;
  body: Buffer;
  headers: Record<string, string>;
}

let c: TestCollector;
let now: number;
beforeAll(async () => {
  c = await testCollector();
  now = Date.now();
});
afterAll(async () => c?.close());

// ---- the generator --------------------------------------------------------------------------

const HOSTILE_VALUES: Array<[string, unknown]> = [
  ['string', 'x'],
  ['empty string', ''],
  ['true', true],
  ['null', null],
  ['array', [1, 2]],
  ['object', { a: 1 }],
  ['negative', -1],
  ['-1e300', -1e300],
  ['1e300', 1e300],
  ['max safe', Number.MAX_SAFE_INTEGER],
  ['fraction', 1.5],
  ['tiny', 5e-324],
  ['"NaN"', 'NaN'],
  ['"Infinity"', 'Infinity'],
  ['"-0"', '-0'],
  ['"1e3"', '1e3'],
  ['number as string', '12'],
  ['NUL string', 'a\u0000b'],
  ['lone surrogate', '\ud800x'],
  ['RTL and zero-width', '\u202e\u200b\u2066evil'],
  ['emoji', '\u{1F525}'.repeat(50)],
  ['newlines', 'a\nb\r\nc'],
  ['long string', 'y'.repeat(5000)],
  ['huge string', 'z'.repeat(200_000)],
  ['deep array', nest(200)],
];
// numbers JSON can carry but JSON.stringify cannot write: substituted in the text
const RAW_NUMBERS = ['9007199254740993', '1e300', '1E400', '-1E400', '-0', '0.0', '1e-400', '123456789012345678901234567890', '-9007199254740993'];
const SPECIAL_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '__defineGetter__', 'extra'];

function nest(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

let streamSeq = 0;
function validLogs(r: () => number): IngestBatch {
  const n = 1 + Math.floor(r() * 4);
  const messages = Array.from({ length: n }, (_, i) => `fuzz line ${streamSeq} ${i} ${Math.floor(r() * 1e6)}`);
  return batchOf(messages, { host: `fz-${Math.floor(r() * 3)}`, stream: `fz-stream-${streamSeq++}`, ts: now - Math.floor(r() * 3600_000), program: 'fuzz' });
}
function validMetrics(r: () => number): MetricBatch {
  const n = 1 + Math.floor(r() * 3);
  return {
    version: WIRE_VERSION,
    agent_id: 'agt_fuzz',
    host: 'fz-m',
    interval_ms: 10_000,
    samples: Array.from({ length: n }, (_, i) => {
      const type = pick(r, METRIC_TYPES);
      const sample: MetricBatch['samples'][number] = { name: `fuzz.${type.toLowerCase()}${i}`, type, ts: now + streamSeq++ * 1000, value: type === 'GAUGE' ? r() * 100 : Math.floor(r() * 1e6) };
      if (r() < 0.4) sample.labels = { device: `d${Math.floor(r() * 3)}` };
      return sample;
    }),
  };
}

/** Every (container, key) pair inside a value, so a mutation can hit any depth. */
function slots(v: unknown, out: Array<[Record<string, unknown> | unknown[], string | number]> = []) {
  if (Array.isArray(v)) v.forEach((x, i) => (out.push([v, i]), slots(x, out)));
  else if (v && typeof v === 'object') for (const k of Object.keys(v)) out.push([v as Record<string, unknown>, k]), slots((v as Record<string, unknown>)[k], out);
  return out;
}

function objectsIn(v: unknown, out: Record<string, unknown>[] = []) {
  if (Array.isArray(v)) v.forEach((x) => objectsIn(x, out));
  else if (v && typeof v === 'object') {
    out.push(v as Record<string, unknown>);
    for (const x of Object.values(v)) objectsIn(x, out);
  }
  return out;
}

function mutateValue(r: () => number, doc: unknown): { doc: unknown; what: string } {
  const kind = r();
  const all = slots(doc);
  if (kind < 0.55) {
    const [holder, key] = pick(r, all);
    const [name, value] = pick(r, HOSTILE_VALUES);
    (holder as Record<string, unknown>)[key as string] = structuredClone(value);
    return { doc, what: `set ${String(key)} = ${name}` };
  }
  if (kind < 0.7) {
    const [holder, key] = pick(r, all);
    if (Array.isArray(holder)) holder.splice(key as number, 1);
    else delete holder[key as string];
    return { doc, what: `delete ${String(key)}` };
  }
  // an extra own key, including the ones that mean something to JavaScript objects
  const target = pick(r, objectsIn(doc));
  const key = pick(r, SPECIAL_KEYS);
  const [name, value] = pick(r, [['object', { polluted: true, isAdmin: true }], ...HOSTILE_VALUES.slice(0, 8)] as Array<[string, unknown]>);
  Object.defineProperty(target, key, { value: structuredClone(value), enumerable: true, configurable: true, writable: true });
  return { doc, what: `add key ${key} = ${name}` };
}

function mutateText(r: () => number, text: string): { text: string; what: string } {
  const kind = r();
  if (kind < 0.3) {
    const numbers = [...text.matchAll(/(?<=[:\[,])-?\d+(\.\d+)?([eE][-+]?\d+)?(?=[,\]}])/g)];
    if (numbers.length) {
      const m = pick(r, numbers);
      const raw = pick(r, RAW_NUMBERS);
      return { text: text.slice(0, m.index) + raw + text.slice(m.index! + m[0].length), what: `number ${m[0]} -> ${raw}` };
    }
  }
  if (kind < 0.5) {
    // a duplicated key: the same object says it twice (JSON.parse keeps the last)
    const keys = [...text.matchAll(/"(host|agent_id|version|stream|start|end|offset|ts|name|type|value)":/g)];
    if (keys.length) {
      const m = pick(r, keys);
      const dup = pick(r, ['"x"', '0', '-5', '1e300', 'null', '{"a":1}', '"victim"']);
      return { text: text.slice(0, m.index) + `"${m[1]}":${dup},` + text.slice(m.index), what: `duplicate key ${m[1]} (first = ${dup})` };
    }
  }
  if (kind < 0.7) {
    const at = Math.floor(r() * text.length);
    return { text: text.slice(0, at), what: `truncated at ${at}/${text.length}` };
  }
  if (kind < 0.8) {
    const depth = pick(r, [1000, 10_000, 100_000]);
    const open = pick(r, ['[', '{"a":']);
    const close = open === '[' ? ']' : '}';
    const nested = open.repeat(depth) + '1' + close.repeat(depth);
    const at = text.indexOf('"segments":') >= 0 ? text.indexOf('"segments":') + 11 : text.indexOf('"samples":') + 10;
    const end = findValueEnd(text, at);
    return { text: text.slice(0, at) + nested + text.slice(end), what: `nesting ${open} x${depth}` };
  }
  if (kind < 0.9) {
    const at = Math.floor(r() * text.length);
    const junk = pick(r, ['\u0000', '\\u0000', '\\ud800', '\\', '"', ',', '}', ']]]', 'NaN', 'Infinity', 'undefined', '/*c*/', '\ufeff']);
    return { text: text.slice(0, at) + junk + text.slice(at), what: `insert ${JSON.stringify(junk)} at ${at}` };
  }
  return { text: '\ufeff' + text, what: 'leading BOM' };
}

/** End of the JSON value starting at `at` (bracket counting that respects strings). */
function findValueEnd(text: string, at: number): number {
  let depth = 0;
  let inStr = false;
  for (let i = at; i < text.length; i++) {
    const ch = text[i]!;
    if (inStr) {
      if (ch === '\\') i++;
      else if (ch === '"') inStr = false;
      continue;
    }
    if (ch === '"') inStr = true;
    else if (ch === '[' || ch === '{') depth++;
    else if (ch === ']' || ch === '}') {
      depth--;
      if (depth === 0) return i + 1;
    } else if (depth === 0 && (ch === ',' || ch === '}')) return i;
  }
  return text.length;
}

function mutateBytes(r: () => number, body: Buffer): { body: Buffer; what: string } {
  const b = Buffer.from(body);
  const kind = r();
  if (kind < 0.5) {
    const n = 1 + Math.floor(r() * 8);
    for (let i = 0; i < n; i++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
    return { body: b, what: `${n} random bytes` };
  }
  if (kind < 0.8) {
    const at = Math.floor(r() * b.length);
    return { body: Buffer.concat([b.subarray(0, at), Buffer.from([0xff, 0xfe, 0xc0, 0x80, 0xed, 0xa0, 0x80]), b.subarray(at)]), what: `invalid UTF-8 at ${at}` };
  }
  return { body: Buffer.from(Array.from({ length: Math.floor(r() * 2000) }, () => Math.floor(r() * 256))), what: 'binary noise' };
}

function transport(r: () => number, c0: Case): Case {
  const kind = r();
  const ct = c0.target === 'ndjson' ? INGEST_MULTI_TYPE : 'application/json';
  if (kind < 0.55) return c0;
  if (kind < 0.7) return { ...c0, body: gzipSync(c0.body), headers: { ...c0.headers, 'content-encoding': pick(r, ['gzip', 'GZIP', ' gzip']) }, what: `${c0.what}, gzipped` };
  if (kind < 0.75) {
    // a bomb: 10 MiB that compresses to ~10 KiB, valid JSON prefix so the parser would try
    const bomb = gzipSync(Buffer.concat([c0.body.subarray(0, 20), Buffer.alloc(10 * 1024 * 1024, 0x20)]));
    return { ...c0, body: bomb, headers: { ...c0.headers, 'content-encoding': 'gzip' }, what: `${c0.what}, gzip bomb` };
  }
  if (kind < 0.8) {
    const z = gzipSync(c0.body);
    return { ...c0, body: z.subarray(0, Math.floor(z.length * r())), headers: { ...c0.headers, 'content-encoding': 'gzip' }, what: `${c0.what}, truncated gzip` };
  }
  if (kind < 0.84) return { ...c0, body: Buffer.concat([gzipSync(c0.body), Buffer.from('trailing garbage')]), headers: { ...c0.headers, 'content-encoding': 'gzip' }, what: `${c0.what}, gzip + trailing garbage` };
  if (kind < 0.88) return { ...c0, headers: { ...c0.headers, 'content-encoding': pick(r, ['deflate', 'br', 'gzip, gzip', 'x-gzip', 'compress', '']) }, what: `${c0.what}, odd content-encoding` };
  if (kind < 0.9 && c0.target !== 'metrics') {
    // the ordering header (INGEST_AFTER_HEADER): garbage, huge ends, streams nobody sends
    const after = pick(r, ['garbage', '%E0%A4%A', encodeURIComponent('{"s":1e300}'), encodeURIComponent('{"__proto__":{"x":1}}'), encodeURIComponent('{"":1}'), encodeURIComponent('[1]'), encodeURIComponent('{"never-sent":5}'), encodeURIComponent(`{"fz-stream-${streamSeq - 1}":0}`), encodeURIComponent(JSON.stringify(Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`s${i}`, i]))))]);
    return { ...c0, headers: { ...c0.headers, [INGEST_AFTER_HEADER]: after }, what: `${c0.what}, ${INGEST_AFTER_HEADER}: ${after.slice(0, 40)}` };
  }
  if (kind < 0.92) return { ...c0, headers: { ...c0.headers, 'content-encoding': 'gzip' }, what: `${c0.what}, claims gzip but is not` };
  const types = ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', `${ct}; charset=utf-16`, `${ct}; charset=latin1`, 'application/JSON', ct === 'application/json' ? INGEST_MULTI_TYPE : 'application/json'];
  return { ...c0, headers: { ...c0.headers, 'content-type': pick(r, types) }, what: `${c0.what}, content-type swapped` };
}

function generate(r: () => number): Case {
  const target = pick(r, ['logs', 'logs', 'ndjson', 'metrics'] as Target[]);
  let doc: unknown =
    target === 'logs' ? validLogs(r) : target === 'metrics' ? validMetrics(r) : Array.from({ length: 1 + Math.floor(r() * 3) }, () => validLogs(r));
  const whats: string[] = [];
  const level = r();
  let text: string;
  if (target === 'ndjson') {
    const docs = doc as unknown[];
    if (level < 0.5) {
      const i = Math.floor(r() * docs.length);
      const m = mutateValue(r, docs[i]);
      whats.push(`doc ${i}: ${m.what}`);
    } else if (level < 0.6) {
      whats.push('66 batches');
      while (docs.length < 66) docs.push(validLogs(r));
    } else if (level < 0.7) {
      whats.push('a JSON array instead of lines');
      doc = docs;
    }
    text = level >= 0.6 && level < 0.7 ? JSON.stringify(docs) : docs.map((d) => JSON.stringify(d)).join(pick(r, ['\n', '\r\n', '\n\n', '\n \n']));
    if (level >= 0.7 && level < 0.9) {
      const m = mutateText(r, text);
      text = m.text;
      whats.push(m.what);
    }
  } else {
    if (level < 0.5) {
      const m = mutateValue(r, doc);
      whats.push(m.what);
      if (r() < 0.3) whats.push(mutateValue(r, doc).what);
    }
    text = JSON.stringify(doc);
    if (level >= 0.5 && level < 0.85) {
      const m = mutateText(r, text);
      text = m.text;
      whats.push(m.what);
    }
  }
  let body: Buffer = Buffer.from(text);
  if ((target === 'ndjson' && level >= 0.9) || (target !== 'ndjson' && level >= 0.85 && level < 0.95)) {
    const m = mutateBytes(r, body);
    body = m.body;
    whats.push(m.what);
  }
  if (whats.length === 0) whats.push('unmutated');
  const base: Case = {
    target,
    what: whats.join(', '),
    body,
    headers: { 'content-type': target === 'ndjson' ? INGEST_MULTI_TYPE : 'application/json' },
  };
  return transport(r, base);
}

// ---- the invariants -------------------------------------------------------------------------

function post(cs: Case) {
  return c.app.inject({
    method: 'POST',
    url: cs.target === 'metrics' ? '/api/v1/metrics/ingest' : '/api/v1/ingest',
    headers: { authorization: `Bearer ${c.token('agent')}`, ...cs.headers },
    payload: cs.body,
  });
}

function acceptedOf(json: unknown): number {
  const acks = Array.isArray(json) ? json : [json];
  return acks.reduce((n: number, a: { accepted?: unknown }) => n + (typeof a.accepted === 'number' ? a.accepted : NaN), 0);
}

async function canaryLogs(): Promise<string[]> {
  const res = await c.app.inject({ method: 'GET', url: '/api/v1/logs?host=canary&limit=1000', headers: { authorization: `Bearer ${c.token('viewer')}` } });
  expect(res.statusCode).toBe(200);
  return (res.json().items as Array<{ message: string }>).map((i) => i.message).sort();
}
async function canarySeries(): Promise<unknown> {
  const res = await c.app.inject({
    method: 'GET',
    url: `/api/v1/series?host=canary-m&metric=canary.load&start=${now - 3600_000}&end=${now + 3600_000}`,
    headers: { authorization: `Bearer ${c.token('viewer')}` },
  });
  expect(res.statusCode).toBe(200);
  return res.json();
}

describe('wire fuzz', () => {
  it.each(SEEDS)('seed %i: no 5xx, coded 4xx, nothing stored by a refusal, nothing lost', async (seed) => {
    // what was accepted before the run must survive it
    const canary = batchOf(['canary one', 'canary two', 'canary three'], { host: 'canary', stream: `canary-${seed}`, ts: now - 1000 });
    expect((await post({ target: 'logs', what: 'canary', body: Buffer.from(JSON.stringify(canary)), headers: { 'content-type': 'application/json' } })).statusCode).toBe(200);
    const metricCanary: MetricBatch = {
      version: WIRE_VERSION,
      agent_id: 'agt_canary',
      host: 'canary-m',
      interval_ms: 10_000,
      samples: Array.from({ length: 6 }, (_, i) => ({ name: 'canary.load', type: 'GAUGE' as const, ts: now - 60_000 + i * 10_000, value: i })),
    };
    expect((await post({ target: 'metrics', what: 'canary', body: Buffer.from(JSON.stringify(metricCanary)), headers: { 'content-type': 'application/json' } })).statusCode).toBe(200);
    const logsBefore = await canaryLogs();
    const seriesBefore = await canarySeries();

    const r = rng(seed);
    const violations: string[] = [];
    const statuses = new Map<number, number>();
    const started = performance.now();
    for (let i = 0; i < CASES_PER_SEED; i++) {
      const cs = generate(r);
      const tag = `seed=${seed} case=${i} ${cs.target} [${cs.what}] (${cs.body.length} bytes)`;
      const idBefore = await c.app.storage.logs.maxId();
      const res = await post(cs);
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      const idAfter = await c.app.storage.logs.maxId();
      if (res.statusCode >= 500) {
        violations.push(`${tag}: ${res.statusCode} ${res.body.slice(0, 300)}`);
        continue;
      }
      if (res.statusCode >= 400) {
        let body: { error?: unknown; message?: unknown } = {};
        try {
          body = res.json();
        } catch {
          violations.push(`${tag}: ${res.statusCode} without a JSON body: ${res.body.slice(0, 200)}`);
        }
        if (typeof body.error !== 'string' || !/^RINGTAIL_ERR_[A-Z_]+$/.test(body.error) || typeof body.message !== 'string' || body.message === '') {
          violations.push(`${tag}: ${res.statusCode} body not {error: RINGTAIL_ERR_*, message}: ${res.body.slice(0, 200)}`);
        }
        if (idAfter !== idBefore) violations.push(`${tag}: refused with ${res.statusCode} but stored ${idAfter - idBefore} lines`);
        continue;
      }
      if (res.statusCode !== 200) {
        violations.push(`${tag}: unexpected ${res.statusCode}`);
        continue;
      }
      if (cs.target !== 'metrics') {
        const accepted = acceptedOf(res.json());
        if (idAfter - idBefore !== accepted) violations.push(`${tag}: ack says ${accepted} accepted, store grew by ${idAfter - idBefore}`);
      }
    }
    const ms = performance.now() - started;

    expect(await canaryLogs(), `seed=${seed}: canary lines`).toEqual(logsBefore);
    expect(await canarySeries(), `seed=${seed}: canary series`).toEqual(seriesBefore);
    const health = await c.app.inject({ method: 'GET', url: '/healthz' });
    expect(health.statusCode).toBe(200);
    expect(violations, `seed=${seed} (replay: RINGTAIL_FUZZ_SEED=${seed}); statuses ${JSON.stringify([...statuses])}`).toEqual([]);
    // the run exercised both sides: some requests accepted, many refused
    expect(statuses.get(200) ?? 0, `seed=${seed}`).toBeGreaterThan(5);
    expect([...statuses].filter(([s]) => s >= 400).reduce((n, [, k]) => n + k, 0), `seed=${seed}`).toBeGreaterThan(CASES_PER_SEED / 3);
    console.log(`wire fuzz seed=${seed}: ${CASES_PER_SEED} cases in ${ms.toFixed(0)} ms, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
  });
});

// ---- probes of issue 12 #1 and the fuzz's own findings ---------------------------------------
// Each was an `it.fails` probe of a defect until its fix merged; they now check the fixed behaviour.
async function postMetrics(app: TestCollector['app'], token: string, batch: MetricBatch) {
  return app.inject({ method: 'POST', url: '/api/v1/metrics/ingest', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: JSON.stringify(batch) });
}
function metricBatch(host: string, samples: MetricBatch['samples']): MetricBatch {
  return { version: WIRE_VERSION, agent_id: 'agt_probe', host, interval_ms: 10_000, samples };
}

describe('issue 12 #1 and the findings of this fuzz, fixed', () => {
  // (ts 1e300 and 1e20 are probed against a live collector in collector-dos.test.ts)
  it('issue12#1 metric ts 2^53-1: a far-future metric sample is refused (400 naming samples/0/ts) and does not freeze its series', async () => {
    const host = `victim-${Number.MAX_SAFE_INTEGER}`;
    const t = Math.floor(Date.now() / 10_000) * 10_000;
    expect((await postMetrics(c.app, c.token('agent'), metricBatch(host, [{ name: 'cpu.user', type: 'GAUGE', ts: t - 10_000, value: 1 }]))).statusCode).toBe(200);
    const hostile = await postMetrics(c.app, c.token('agent'), metricBatch(host, [{ name: 'cpu.user', type: 'GAUGE', ts: Number.MAX_SAFE_INTEGER, value: 99 }]));
    expect(hostile.statusCode).toBe(400);
    expect(hostile.json()).toMatchObject({ error: 'RINGTAIL_ERR_BAD_REQUEST', message: expect.stringMatching(/^body\/samples\/0\/ts: /) });
    // a real sample after it is still stored
    const real = await postMetrics(c.app, c.token('agent'), metricBatch(host, [{ name: 'cpu.user', type: 'GAUGE', ts: t, value: 2 }]));
    expect(real.statusCode).toBe(200);
    expect(real.json()).toMatchObject({ accepted: 1, duplicates: 0 });
  });

  it('issue12#1 segment end 1e301: a segment end past 2^53-1 is a 400 naming segments/0/end, and nothing is stored', async () => {
    const b = batchOf(['a', 'b'], { stream: 'probe-1e301', host: 'probe' });
    b.segments[0]!.end = 1e301;
    const before = await c.app.storage.logs.maxId();
    const res = await post({ target: 'logs', what: 'end 1e301', body: Buffer.from(JSON.stringify(b)), headers: { 'content-type': 'application/json' } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'RINGTAIL_ERR_BAD_REQUEST', message: expect.stringMatching(/^body\/segments\/0\/end: /) });
    expect(await c.app.storage.logs.maxId()).toBe(before);
  });

  it("new: stream poisoning: another agent token cannot send with an agent_id bound to the first token (403 naming agent_id), and the victim's stream goes on", async () => {
    const send = async (b: IngestBatch, token: string) =>
      c.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: JSON.stringify(b) });
    const victim = (await c.app.storage.tokens.create('agent', 'victim agent', Date.now())).token;
    const attacker = (await c.app.storage.tokens.create('agent', 'attacker agent', Date.now())).token;
    expect((await send(batchOf(['v1'], { stream: 'inode-1', agent: 'agt_victim', host: 'victim-logs' }), victim)).json()).toMatchObject({ accepted: 1 });
    const hostile = batchOf(['x'], { stream: 'inode-1', agent: 'agt_victim', host: 'victim-logs', start: 3 });
    hostile.segments[0]!.end = Number.MAX_SAFE_INTEGER;
    const refused = await send(hostile, attacker);
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ error: 'RINGTAIL_ERR_FORBIDDEN', message: expect.stringMatching(/^body\/agent_id: agent_id 'agt_victim' belongs to another agent token/) });
    // the victim's next line, at the offset where its stream really is, is stored
    const next = await send(batchOf(['v2'], { stream: 'inode-1', agent: 'agt_victim', host: 'victim-logs', start: 3 }), victim);
    expect(next.json()).toMatchObject({ accepted: 1, duplicates: 0 });
    // the collector's own syslog receiver's agent_id is nobody's to send with
    const syslog = await send(batchOf(['s'], { stream: 'udp', agent: 'syslog', host: 'victim-logs' }), attacker);
    expect(syslog.statusCode).toBe(403);
    expect(syslog.json().message).toMatch(/^body\/agent_id: agent_id 'syslog' is reserved/);
  });

  it('new: gauge near DBL_MAX: stored as rrdtool 1.7.2 stores it, +inf (value × interval overflows), which the JSON API shows as null', async () => {
    // rrdtool: `update x.rrd T:1.7e308` on DS:g:GAUGE:20:U:U, step 10, then fetch AVERAGE → `inf`
    // per row; 1e307 (× 10 s still finite) → 1.0000000000e+307. Checked with the real binary.
    const t = Math.floor(Date.now() / 10_000) * 10_000;
    const samples = [0, 1, 2, 3, 4].map((i) => ({ name: 'huge.gauge', type: 'GAUGE' as const, ts: t - 50_000 + i * 10_000, value: i < 3 ? 1.7e308 : 1e307 }));
    const res = await postMetrics(c.app, c.token('agent'), metricBatch('probe-huge', samples));
    expect(res.json()).toMatchObject({ accepted: 5, duplicates: 0 });
    const data = c.app.hostMetrics.fetch('probe-huge', 'huge.gauge', 'AVERAGE', t - 50_000, t - 10_000)!;
    // (to the 10 digits rrdtool prints: the time-weighted sum leaves 1.0000000000000004e307)
    const [a, b, x, y] = data.values as number[];
    expect([a, b]).toEqual([Infinity, Infinity]);
    for (const v of [x!, y!]) expect(Math.abs(v / 1e307 - 1)).toBeLessThan(1e-10);
    const series = await c.app.inject({
      method: 'GET',
      url: `/api/v1/series?host=probe-huge&metric=huge.gauge&start=${t - 50_000}&end=${t - 10_000}`,
      headers: { authorization: `Bearer ${c.token('viewer')}` },
    });
    expect(series.json().values.slice(0, 4)).toEqual([null, null, x, y]);
  });

  it('new: label __proto__: the label keys __proto__, constructor and prototype are a 400 naming the key, and nothing is stored', async () => {
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      const raw = `{"version":1,"agent_id":"a","host":"h-proto","samples":[{"name":"x.y","type":"GAUGE","ts":${Date.now()},"value":1,"labels":{"${key}":"p"}}]}`;
      const res = await c.app.inject({ method: 'POST', url: '/api/v1/metrics/ingest', headers: { authorization: `Bearer ${c.token('agent')}`, 'content-type': 'application/json' }, payload: raw });
      expect(res.statusCode, key).toBe(400);
      expect(res.json(), key).toMatchObject({ error: 'RINGTAIL_ERR_BAD_REQUEST', message: expect.stringContaining(`body/samples/0/labels/${key}: label key '${key}' is reserved`) });
    }
    expect(c.app.hostMetrics.list('h-proto')).toEqual([]);
  });

  it('new: label __proto__: a series key read back from the store keeps any label key as data (parseMetricKey)', () => {
    const parsed = parseMetricKey('x.y{__proto__=p,constructor=q}')!;
    expect(Object.keys(parsed.labels)).toEqual(['__proto__', 'constructor']);
    expect(parsed.labels['__proto__']).toBe('p');
    expect(metricKey(parsed.name, parsed.labels)).toBe('x.y{__proto__=p,constructor=q}');
  });
});
