// Syslog messages whose body is JSON or logfmt, on a real TCP socket into a real SQLite file:
// host and program from the header, level and time from the body when readable, the rest fields.
import { afterEach, describe, expect, it } from 'vitest';
import { octet, sendTcp, syslogApp, type SyslogApp } from '../helpers/syslog.js';

let s: SyslogApp | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

describe('syslog receiver: structured bodies', () => {
  it('reads JSON and logfmt bodies; the header names host and program, the body level and time win', async () => {
    s = await syslogApp({ clock: () => Date.UTC(2026, 11, 7, 1) });
    const wide = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i]));
    await sendTcp(
      s.tcpPort,
      // PRI says info; the pino body says error at its own time
      octet('<14>1 2026-12-06T23:40:00Z api-1 node 42 - [meta@1 region="eu"] {"level":50,"time":1796600446123,"msg":"payment failed","order":{"id":7}}'),
      // RFC 3164 with a logfmt body and no time in it: the header's time stays
      '<12>Dec  6 23:40:47 api-2 worker[9]: level=info msg="job done" job=resize dur=1.2s\n',
      // a body without a level keeps the PRI's severity
      octet('<11>Dec  6 23:40:48 api-3 app: {"msg":"no level","code":7}'),
      // JSON with 100 keys: bounded, marked
      octet(`<14>Dec  6 23:40:49 api-4 app: ${JSON.stringify({ msg: 'wide', ...wide })}`),
      // not JSON after all: the message is kept as it came
      '<14>Dec  6 23:40:50 api-5 app: {"msg":"cut\n',
    );
    const rows = (await s.waitRows(5)).sort((a, b) => a.host.localeCompare(b.host));
    const view = rows.map((r) => ({ host: r.host, program: r.program, ts: new Date(r.ts).toISOString(), severity: r.severity, message: r.message, fields: r.fields && JSON.parse(r.fields) }));
    expect(view.slice(0, 3)).toEqual([
      { host: 'api-1', program: 'node', ts: '2026-12-06T23:40:46.123Z', severity: 3, message: 'payment failed', fields: { 'sd.meta@1.region': 'eu', 'order.id': '7' } },
      { host: 'api-2', program: 'worker', ts: '2026-12-06T23:40:47.000Z', severity: 6, message: 'job done', fields: { job: 'resize', dur: '1.2s' } },
      { host: 'api-3', program: 'app', ts: '2026-12-06T23:40:48.000Z', severity: 3, message: 'no level', fields: { code: '7' } },
    ]);
    expect(view[3]!.message).toBe('wide');
    expect(Object.keys(view[3]!.fields)).toHaveLength(64);
    expect(view[3]!.fields.fields_truncated).toBe('37');
    expect(view[4]).toMatchObject({ host: 'api-5', message: '{"msg":"cut', fields: null });
    expect(s.app.events.count('syslog.body.json')).toBe(3);
    expect(s.app.events.count('syslog.body.logfmt')).toBe(1);
    expect(s.app.events.count('syslog.fields_truncated')).toBe(37);
  });
});
