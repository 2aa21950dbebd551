// Structured lines through the real agent and collector (issue 13): pino JSON lines and a dpkg
// line appended to a file, read with the default parser (auto), are stored with the time,
// severity and fields the lines carry; a second source forced to `parser: syslog` stores the same
// text as before parsers existed (read time, whole text as message), so the option reaches the agent.
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ADMIN, rigsFor } from '../helpers/agent-run.js';
import { api, waitFor } from '../helpers/proc.js';

const rig = rigsFor('structured');

interface Item {
  ts: number;
  severity: number;
  message: string;
  source: string;
  fields?: Record<string, string> | null;
  received_at?: number;
}

/** `2026-12-06 23:40:46` in UTC (the agent's zone by default), as dpkg writes its log. */
function dpkgStamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

describe('structured lines end to end', () => {
  it('stores the parsed time, severity and fields of pino and dpkg lines', async () => {
    const r = rig('auto');
    await r.startCollector();
    const app = join(r.logs, 'app.log');
    const forced = join(r.logs, 'forced.log');
    writeFileSync(app, '');
    writeFileSync(forced, '');
    const config = join(r.dir, 'agent.json');
    writeFileSync(config, JSON.stringify({ sources: [{ paths: [app] }, { paths: [forced], parser: 'syslog' }] }));
    await r.startAgent(['--config', config]);

    // Times well in the past (but after 2000 and not in the future, so the collector keeps them).
    const base = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
    const info = { level: 30, time: base + 123, pid: 4242, hostname: 'web1', msg: 'e2e pino info', req: { id: 7, method: 'GET' } };
    const error = { level: 50, time: base + 5_456, pid: 4242, hostname: 'web1', err: { type: 'Error', message: 'boom' }, msg: 'e2e pino error' };
    const dpkg = `${dpkgStamp(base + 60_000)} status installed e2e-dpkg:amd64 1.0-1`;
    appendFileSync(app, `${JSON.stringify(info)}\n${JSON.stringify(error)}\n${dpkg}\n{"level":30,"msg":"cut\n`);
    appendFileSync(forced, `${JSON.stringify(error)}\n`);
    // 100 keys: 63 are kept with the mark, the line and the agent's stats count the 37 others.
    const wide = { msg: 'e2e wide', ...Object.fromEntries(Array.from({ length: 100 }, (_, k) => [`k${k}`, k])) };
    appendFileSync(app, `${JSON.stringify(wide)}\n`);

    const items = await waitFor('6 lines stored', async () => {
      const page = await api<{ items: Item[] }>(r.url, ADMIN, `/api/v1/logs?host=${r.host}&limit=100`);
      return page.items.length >= 6 ? page.items : undefined;
    }, 20_000);
    expect(items).toHaveLength(6);
    const byMessage = new Map(items.filter((i) => i.source === app).map((i) => [i.message, i]));

    const i = byMessage.get('e2e pino info')!;
    expect(i).toMatchObject({ ts: base + 123, severity: 6 });
    expect(i.fields).toEqual({ pid: '4242', hostname: 'web1', 'req.id': '7', 'req.method': 'GET' });

    const e = byMessage.get('e2e pino error')!;
    expect(e).toMatchObject({ ts: base + 5_456, severity: 3 });
    expect(e.fields).toEqual({ pid: '4242', hostname: 'web1', 'err.type': 'Error', 'err.message': 'boom' });

    const d = byMessage.get(dpkg)!;
    expect(d).toMatchObject({ ts: base + 60_000, severity: 6 });
    expect(d.fields ?? undefined).toBeUndefined();

    const w = byMessage.get('e2e wide')!;
    expect(Object.keys(w.fields!)).toHaveLength(64);
    expect(w.fields!.fields_truncated).toBe('37');
    await waitFor('agent stats counting the cut fields', () => {
      const stats = r.agent!.stderr().split('\n').filter((l) => l.includes('"agent.stats"'));
      const last = stats[stats.length - 1];
      return last !== undefined && (JSON.parse(last) as { fields_truncated: number }).fields_truncated === 37;
    }, 10_000);

    // Malformed JSON is a plain line stamped when it was read.
    const cut = byMessage.get('{"level":30,"msg":"cut')!;
    expect(cut.ts).toBeGreaterThan(base + 3_000_000);

    // parser: syslog keeps the reading before parsers: the text is the message, stamped when read.
    const f = items.find((x) => x.source === forced)!;
    expect(f.message).toBe(JSON.stringify(error));
    expect(f.ts).toBeGreaterThan(base + 3_000_000);
    expect(f.fields ?? undefined).toBeUndefined();
  });
});
