// Issue 16: two collectors share one ClickHouse. The chdb fixture serves ClickHouse's HTTP
// interface (test/fixtures/chdb-server.mjs); two `ringtail collector --storage clickhouse`
// processes keep their log lines there; six agents ship files, three to each collector. One
// collector is SIGKILLed while lines flow and started again on its port: its agents spool and
// resend. In the end every line is stored exactly once (counted by (stream, offset) in
// ClickHouse itself), and either collector finds every agent's lines, by host and by search.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openClient } from '../../collector/storage/clickhouse/connection.js';
import { ADMIN, agentIdleIn, tally, writerLines } from '../helpers/agent-run.js';
import { allLogs, type Proc, ringtail, waitFor } from '../helpers/proc.js';
import { sharedRig } from '../helpers/shared-rig.js';
import { SharedCollector } from '../helpers/shared-collector.js';

const WRITER = fileURLToPath(new URL('../fixtures/log-writer.mjs', import.meta.url));
const DATABASE = 'two_collectors';
const AGENTS = 6;
const COUNT = 4_000;

const rig = sharedRig('ringtail-ch2-');
const { dir, procs } = rig;

interface Agent {
  host: string;
  file: string;
  proc: Proc;
  to: SharedCollector;
}

function startAgent(i: number, to: SharedCollector): Agent {
  const host = `ch2-${i}`;
  const base = join(dir.path, host);
  mkdirSync(join(base, 'logs'), { recursive: true });
  const file = join(base, 'logs', 'app.log');
  const proc = ringtail(
    [
      'agent', '--collector', `http://127.0.0.1:${to.port}`, '--state', join(base, 'state'), '--host', host, '--watch', file,
      '--batch-linger-ms', '200', '--batch-max-lines', '300', '--scan-interval-ms', '250', '--stats-interval-ms', '1000', '--transport-backoff-max-ms', '1000',
    ],
    { RINGTAIL_TOKEN: to.token },
  );
  procs.push(proc);
  return { host, file, proc, to };
}

function write(file: string, tag: string): Promise<number> {
  const child = spawn(process.execPath, [WRITER, file, String(COUNT), '1500', tag], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve(Number(/written (\d+)/.exec(out)?.[1])) : reject(new Error(`writer exited ${code}`)))));
}

const idle = (a: Agent, after: number): boolean => agentIdleIn(a.proc.stderr(), after);

const tag = (i: number) => `chtwo${i}`;

describe('two collectors on one ClickHouse', () => {
  it('one SIGKILLed mid-stream and restarted: every line stored exactly once, found from either collector', { timeout: 240_000 }, async () => {
    const a = new SharedCollector('collector-a', dir.path, { url: rig.chdb.url, database: DATABASE }, procs);
    const b = new SharedCollector('collector-b', dir.path, { url: rig.chdb.url, database: DATABASE }, procs);
    await Promise.all([a.start(), b.start()]);
    // printed right after the listening line (perhaps in the next chunk of the pipe)
    const said = /storage: logs, metrics, tokens, sessions, alerts, host states in ClickHouse \(database two_collectors\)\n/;
    await waitFor('the storage line', () => said.test(a.proc!.stdout()), 10_000);

    const agents = Array.from({ length: AGENTS }, (_, i) => startAgent(i, i % 2 === 0 ? a : b));
    await waitFor('agents started', () => agents.every((g) => g.proc.stderr().includes('"agent started"')), 30_000);
    const writing = agents.map((g, i) => write(g.file, tag(i)));

    // collector A dies while its agents' lines flow: after some are stored, long before the last
    const mine = agents.filter((g) => g.to === a);
    await waitFor('collector A storing lines', async () => (await allLogs(a.url, ADMIN, `&host=${mine[0]!.host}`)).length >= 300, 60_000, 100);
    await a.proc!.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 1_500));
    await a.start();

    expect(await Promise.all(writing)).toEqual(agents.map(() => COUNT));
    const after = Date.now();
    await waitFor('every agent idle (nothing unread, spool empty)', () => agents.every((g) => idle(g, after)), 90_000, 200);
    // the agents of A were refused or cut off while it was down, and went on
    expect(mine.some((g) => /"ship\.failed"/.test(g.proc.stderr()))).toBe(true);

    // exactly once, in ClickHouse itself: one row per (stream, offset), every line there
    const client = openClient({ url: rig.chdb.url, database: DATABASE }, DATABASE);
    try {
      const q = async <T>(query: string) => (await (await client.query({ query, format: 'JSONEachRow' })).json()) as T[];
      await waitFor('every line in ClickHouse', async () => Number((await q<{ n: number }>('SELECT count() AS n FROM logs'))[0]!.n) >= AGENTS * COUNT, 30_000, 200);
      const [totals] = await q<{ rows: number; distinct: number; streams: number }>('SELECT count() AS rows, uniqExact(stream_id, line_offset) AS distinct, uniqExact(stream_id) AS streams FROM logs');
      expect({ rows: Number(totals!.rows), distinct: Number(totals!.distinct), streams: Number(totals!.streams) }).toEqual({ rows: AGENTS * COUNT, distinct: AGENTS * COUNT, streams: AGENTS });
      expect(await q('SELECT stream_id, line_offset, count() AS n FROM logs GROUP BY stream_id, line_offset HAVING n > 1 LIMIT 5')).toEqual([]);
    } finally {
      await client.close();
    }

    // either collector reads every agent's lines, whichever collector stored them
    for (const [i, g] of agents.entries()) {
      for (const c of [a, b]) {
        const stored = (await allLogs(c.url, ADMIN, `&host=${g.host}`)).map((l) => l.message);
        expect({ via: c.name, host: g.host, ...tally(writerLines(tag(i), COUNT), stored) }).toEqual({ via: c.name, host: g.host, written: COUNT, stored: COUNT, lost: 0, duplicated: 0, foreign: 0 });
      }
      // and finds them by search on the other one
      const other = g.to === a ? b : a;
      const found = await allLogs(other.url, ADMIN, `&q=${tag(i)}`);
      expect(found.length).toBe(COUNT);
    }
  });
});
