// The syslog receiver on real loopback sockets and a real SQLite file: what arrives, under which
// host, with which fields, and that garbage, half frames, huge frames and lying counts cost
// nothing of the good traffic around them.
import { readdirSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../collector/app.js';
import { openSqliteStorage } from '../../collector/storage/sqlite/index.js';
import { ConfigError } from '../../shared/errors.js';
import { tempDir, waitFor } from '../helpers/proc.js';
import { failFirstCommits, junk, octet, openTcp, sendTcp, sendUdp, storageWithCommitHook, syslogApp, type SyslogApp } from '../helpers/syslog.js';

let s: SyslogApp | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('syslog receiver lifecycle', () => {
  it('buildApp opens no syslog socket; start() does, and a taken port is a config error naming the key', async () => {
    const port = await freePort();
    const dirs = [tempDir(), tempDir()];
    const a = await buildApp({ dataDir: dirs[0]!.path, syslog: { udp_port: port, tcp_port: port } });
    const b = await buildApp({ dataDir: dirs[1]!.path, syslog: { udp_port: port, tcp_port: port } });
    try {
      await a.ready();
      await b.ready();
      expect(a.syslog.addresses()).toEqual([]);
      expect(b.syslog.addresses()).toEqual([]);
      const res = await a.inject({ method: 'GET', url: '/healthz' });
      expect(res.statusCode).toBe(200);
      expect(await a.syslog.start()).toEqual([
        { transport: 'udp', host: '127.0.0.1', port },
        { transport: 'tcp', host: '127.0.0.1', port },
      ]);
      const err = await b.syslog.start().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toMatch(new RegExp(`--syslog-tcp-port: .*127\\.0\\.0\\.1:${port}: EADDRINUSE`));
    } finally {
      await a.close();
      await b.close();
      for (const d of dirs) d.cleanup();
    }
  });

  it('rejects an unknown time zone at build time, closing what the plugins before it opened', async () => {
    const d = tempDir();
    // the files of this data directory held open by this process (databases, WAL, shm)
    const openHere = () =>
      readdirSync('/proc/self/fd').flatMap((fd) => {
        try {
          const target = readlinkSync(`/proc/self/fd/${fd}`);
          return target.startsWith(d.path) ? [target] : [];
        } catch {
          return [];
        }
      });
    try {
      await expect(buildApp({ dataDir: d.path, syslog: { time_zone: 'Mars/Olympus' } })).rejects.toThrow(/--syslog-time-zone: unknown IANA time zone 'Mars\/Olympus'/);
      // the storage, sessions, metrics and alerts plugins had opened their databases by then
      expect(readdirSync(d.path).some((f) => f.endsWith('.db'))).toBe(true);
      expect(openHere()).toEqual([]);
    } finally {
      d.cleanup();
    }
  });
});

describe('syslog receiver: what arrives', () => {
  it('UDP: RFC 3164 and 5424 with host, program, pid, facility, severity and structured data', async () => {
    s = await syslogApp();
    await sendUdp(
      s.udpPort,
      '<30>Nov 23 17:00:00 web-1 systemd[1]: Started Session 4.',
      '<165>1 2026-11-23T17:00:01.003Z db-1 evntslog 77 ID47 [exampleSDID@32473 iut="3" eventSource="Application"] \uFEFFAn event',
      '<13>no header at all\n',
    );
    const rows = await s.waitRows(3);
    expect(rows.map((r) => ({ ...r, fields: r.fields && JSON.parse(r.fields) }))).toEqual([
      { ts: Date.UTC(2026, 10, 23, 17), host: 'web-1', source: 'syslog:udp', program: 'systemd', pid: 1, facility: 3, severity: 6, message: 'Started Session 4.', fields: null },
      {
        ts: Date.UTC(2026, 10, 23, 17, 0, 1, 3), host: 'db-1', source: 'syslog:udp', program: 'evntslog', pid: 77, facility: 20, severity: 5, message: 'An event',
        fields: { msgid: 'ID47', 'sd.exampleSDID@32473.iut': '3', 'sd.exampleSDID@32473.eventSource': 'Application' },
      },
      // no HOSTNAME: the sender's address stands in
      { ts: expect.any(Number), host: '127.0.0.1', source: 'syslog:udp', program: null, pid: null, facility: 1, severity: 5, message: 'no header at all', fields: null },
    ]);
    expect(s.app.events.count('syslog.received')).toBe(3);
    expect(s.app.events.count('syslog.parsed')).toBe(2);
    expect(s.app.events.count('syslog.unparsed')).toBe(1);
  });

  it('TCP: octet counting and LF framing on one connection; the hosts appear in /api/v1/hosts', async () => {
    s = await syslogApp();
    await sendTcp(
      s.tcpPort,
      octet('<34>1 2026-11-23T17:00:00Z relay-a su - - - one'),
      '<34>Nov 23 17:00:01 relay-b su: two\n',
      octet('<34>1 2026-11-23T17:00:02Z relay-a su - - - three\nwith a second line'),
      '<34>Nov 23 17:00:03 relay-b su: four\r\n',
    );
    // one batch per host per flush: stored grouped by host, so compare in time order
    const rows = (await s.waitRows(4)).sort((x, y) => x.ts - y.ts);
    expect(rows.map((r) => [r.host, r.source, r.message])).toEqual([
      ['relay-a', 'syslog:tcp', 'one'],
      ['relay-b', 'syslog:tcp', 'two'],
      ['relay-a', 'syslog:tcp', 'three\nwith a second line'],
      ['relay-b', 'syslog:tcp', 'four'],
    ]);
    const admin = (await s.app.storage.tokens.create('viewer', 'test', Date.now())).token;
    const res = await s.app.inject({ method: 'GET', url: '/api/v1/hosts', headers: { authorization: `Bearer ${admin}` } });
    expect(res.json().items.map((h: { host: string }) => h.host)).toEqual(['relay-a', 'relay-b']);
  });

  it('RFC 3164 stamps are read in the configured zone', async () => {
    s = await syslogApp({ syslog: { time_zone: 'Europe/Berlin' }, clock: () => Date.UTC(2026, 6, 15) });
    await sendUdp(s.udpPort, '<13>Jul  1 12:00:00 h p: x');
    const [row] = await s.waitRows(1);
    expect(row!.ts).toBe(Date.UTC(2026, 6, 1, 10));
  });
});

describe('syslog receiver: log text is data', () => {
  it('markup stays verbatim in the message; a HOSTNAME that is not a host name does not become a host', async () => {
    s = await syslogApp();
    await sendUdp(
      s.udpPort,
      '<13>Nov 23 17:00:00 web-1 nginx: GET /<script>alert(1)</script> HTTP/1.1',
      '<13>1 2026-11-23T17:00:00Z <img/src=x/onerror=alert(1)> app - - - claimed host',
    );
    const rows = await s.waitRows(2);
    expect(rows.map((r) => [r.host, r.message, r.fields && JSON.parse(r.fields)])).toEqual([
      ['web-1', 'GET /<script>alert(1)</script> HTTP/1.1', null],
      ['127.0.0.1', 'claimed host', { hostname: '<img/src=x/onerror=alert(1)>' }],
    ]);
    const viewer = (await s.app.storage.tokens.create('viewer', 'test', Date.now())).token;
    const res = await s.app.inject({ method: 'GET', url: '/api/v1/logs?host=web-1', headers: { authorization: `Bearer ${viewer}` } });
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json().items[0].message).toBe('GET /<script>alert(1)</script> HTTP/1.1');
  });
});

describe('syslog receiver: bad input never costs good traffic', () => {
  const good = (i: number, via: string) => `<13>Nov 23 17:00:00 goodhost app[${i}]: good ${via} ${i}`;

  it('binary garbage on both ports, between good messages', async () => {
    s = await syslogApp();
    await sendUdp(s.udpPort, good(1, 'udp'), junk(2000, 1), junk(65000, 2), Buffer.from([0, 0, 0, 0]), good(2, 'udp'));
    await sendTcp(s.tcpPort, junk(100_000, 3));
    await sendTcp(s.tcpPort, good(3, 'tcp') + '\n', junk(5000, 4), '\n' + good(4, 'tcp') + '\n');
    await sendTcp(s.tcpPort, octet(good(5, 'tcp')), octet(junk(3000, 5)), octet(good(6, 'tcp')));
    const rows = await s.waitRows(6, "host = 'goodhost'");
    expect(rows.map((r) => r.message)).toEqual(['good udp 1', 'good udp 2', 'good tcp 3', 'good tcp 4', 'good tcp 5', 'good tcp 6']);
    expect(s.app.events.count('syslog.rejected.binary')).toBeGreaterThanOrEqual(3);
    // whatever of the junk passed as text is stored under the sender's address, never as goodhost
    expect(s.rows("host <> 'goodhost' AND host <> '127.0.0.1'")).toEqual([]);
    // the receiver still works
    await sendUdp(s.udpPort, good(7, 'udp'));
    await s.waitRows(7, "host = 'goodhost'");
  });

  it('a 1 MB frame is cut at 64 KiB and marked; the frames around it arrive', async () => {
    s = await syslogApp();
    const huge = '<13>Nov 23 17:00:00 bighost app: ' + 'x'.repeat(1024 * 1024);
    await sendTcp(s.tcpPort, octet(good(1, 'tcp')), octet(huge), octet(good(2, 'tcp')));
    await sendTcp(s.tcpPort, good(3, 'tcp') + '\n' + huge + '\n' + good(4, 'tcp') + '\n');
    await sendUdp(s.udpPort, Buffer.from(huge.slice(0, 65_000)), good(5, 'udp'));
    await s.waitRows(5, "host = 'goodhost'");
    const big = await s.waitRows(3, "host = 'bighost'");
    expect(big.map((r) => [r.message.length, JSON.parse(r.fields ?? '{}').truncated])).toEqual([
      [65536 - 33, 'true'],
      [65536 - 33, 'true'],
      [65_000 - 33, undefined],
    ]);
    expect(s.app.events.count('syslog.truncated')).toBe(2);
  });

  it('invalid UTF-8 is replaced, not rejected', async () => {
    s = await syslogApp();
    const latin1 = Buffer.concat([Buffer.from('<13>Nov 23 17:00:00 goodhost app: caf'), Buffer.from([0xe9]), Buffer.from(' na'), Buffer.from([0xef]), Buffer.from('ve')]);
    await sendUdp(s.udpPort, latin1);
    await sendTcp(s.tcpPort, latin1, '\n', octet(Buffer.concat([Buffer.from('<13>1 - goodhost app - - - '), Buffer.from([0xff, 0xfe]), Buffer.from(' ok')])));
    const rows = await s.waitRows(3, "host = 'goodhost'");
    expect(rows.map((r) => r.message)).toEqual(['caf\uFFFD na\uFFFDve', 'caf\uFFFD na\uFFFDve', '\uFFFD\uFFFD ok']);
  });

  it('half frames: stored marked truncated when the connection ends; an idle half-open connection is closed', async () => {
    s = await syslogApp({ syslog: { idle_timeout_ms: 300 } });
    await sendTcp(s.tcpPort, octet(good(1, 'tcp')), '200 <13>Nov 23 17:00:00 goodhost app: half octet');
    await sendTcp(s.tcpPort, good(2, 'tcp') + '\n<13>Nov 23 17:00:00 goodhost app: half line');
    // a peer that goes silent mid-frame and never closes
    const idle = await openTcp(s.tcpPort);
    idle.write('<13>Nov 23 17:00:00 goodhost app: idle half');
    const closedByServer = new Promise<void>((resolve) => idle.on('close', () => resolve()));
    await closedByServer;
    expect(s.app.events.count('syslog.tcp.idle_closed')).toBe(1);
    const rows = await s.waitRows(5, "host = 'goodhost'");
    expect(rows.map((r) => [r.message, JSON.parse(r.fields ?? '{}').truncated])).toEqual([
      ['good tcp 1', undefined],
      ['half octet', 'true'],
      ['good tcp 2', undefined],
      ['half line', 'true'],
      ['idle half', 'true'],
    ]);
    expect(s.app.events.count('syslog.frame.partial')).toBe(3);
    await waitFor('connection released', () => s!.app.syslog.tcpConnections() === 0);
  });

  it('an octet count that lies: too small and too large, the frames after it still arrive', async () => {
    s = await syslogApp();
    // too small: "<13>Nov 23" then the rest of the message becomes a line of its own
    await sendTcp(s.tcpPort, '10 ' + good(1, 'tcp') + '\n' + good(2, 'tcp') + '\n');
    // too large: swallows the LF-framed frames that follow, which are re-read
    await sendTcp(s.tcpPort, '500 ' + good(3, 'tcp') + '\n' + good(4, 'tcp') + '\n' + good(5, 'tcp') + '\n');
    const rows = await s.waitRows(4, "host = 'goodhost'");
    expect(rows.map((r) => r.message)).toEqual(['good tcp 2', 'good tcp 3', 'good tcp 4', 'good tcp 5']);
    expect(s.app.events.count('syslog.frame.count_mismatch')).toBe(2);
    // nothing of the first message is lost either: its two halves are stored (the space between
    // them was taken for a frame separator)
    expect(s.rows("host = '127.0.0.1'").map((r) => r.message)).toEqual(['Nov 23', '17:00:00 goodhost app[1]: good tcp 1']);
  });

  it('an honest octet-counted frame holding "\\n<PRI>" is stored while the connection stays open and quiet', async () => {
    s = await syslogApp();
    const c = await openTcp(s.tcpPort);
    try {
      // a multi-line message whose second line looks like a frame head; the sender then says nothing
      c.write(octet('<13>Nov 23 17:00:00 goodhost app: first line\n<14>second line'));
      const rows = await s.waitRows(1, "host = 'goodhost'");
      expect(rows.map((r) => r.message)).toEqual(['first line\n<14>second line']);
      expect(s.app.events.count('syslog.frame.count_mismatch')).toBe(0);
      expect(s.app.syslog.tcpConnections()).toBe(1);
    } finally {
      c.destroy();
    }
  });

  it('a connection cap: connections past it are refused, the open ones keep working', async () => {
    s = await syslogApp({ syslog: { max_connections: 2 } });
    const a = await openTcp(s.tcpPort);
    const b = await openTcp(s.tcpPort);
    await waitFor('two connections', () => s!.app.syslog.tcpConnections() === 2);
    const c = await openTcp(s.tcpPort);
    await new Promise<void>((resolve) => c.on('close', () => resolve()));
    expect(s.app.events.count('syslog.tcp.refused')).toBe(1);
    a.end(good(1, 'tcp') + '\n');
    b.end(octet(good(2, 'tcp')));
    const rows = await s.waitRows(2, "host = 'goodhost'");
    expect(rows.map((r) => r.message).sort()).toEqual(['good tcp 1', 'good tcp 2']);
  });
});

describe('syslog receiver: batching and durability', () => {
  it('a flood is stored in few transactions, one batch per host per flush, nothing lost', async () => {
    let calls = 0;
    s = await syslogApp({
      // a transaction is one ingestMany (the group writer) or one ingest
      storage: storageWithCommitHook(() => calls++),
    });
    const N = 5000;
    const frames: Buffer[] = [];
    for (let i = 0; i < N; i++) frames.push(octet(`<13>Nov 23 17:00:00 host-${i % 2} app: n ${i}`));
    await sendTcp(s.tcpPort, Buffer.concat(frames));
    const rows = await s.waitRows(N);
    expect(new Set(rows.map((r) => r.message)).size).toBe(N);
    expect(rows.filter((r) => r.host === 'host-0').map((r) => Number(r.message.slice(2)))).toEqual([...Array(N / 2).keys()].map((i) => i * 2));
    expect(calls).toBeLessThan(N / 50);
    expect(s.app.events.count('syslog.stored')).toBe(N);
  });

  it('a relay: one stream per host whatever the connections, every line once, in order per connection and host', async () => {
    s = await syslogApp();
    const conns = 4;
    const hosts = 5;
    const per = 200;
    await Promise.all(
      Array.from({ length: conns }, (_, c) =>
        sendTcp(s!.tcpPort, Buffer.concat(Array.from({ length: per }, (_, i) => octet(`<13>Nov 23 17:00:00 relay-${i % hosts} app: c${c} n${i}`)))),
      ),
    );
    const rows = await s.waitRows(conns * per, "host LIKE 'relay-%'");
    expect(new Set(rows.map((r) => r.message)).size).toBe(conns * per);
    // ids follow the store's order: host by host, each host's lines in arrival order
    for (let c = 0; c < conns; c++) {
      for (let h = 0; h < hosts; h++) {
        const mine = rows.filter((r) => r.host === `relay-${h}` && r.message.startsWith(`c${c} `)).map((r) => Number(r.message.split(' n')[1]));
        expect(mine).toEqual([...Array(per / hosts).keys()].map((k) => k * hosts + h));
      }
    }
    const db = new Database(join(s.dir, 'ringtail.db'), { readonly: true });
    try {
      expect(db.prepare("SELECT count(*) FROM streams WHERE agent_id = 'syslog'").pluck().get()).toBe(hosts);
    } finally {
      db.close();
    }
  });

  it('a failing store is retried: the lines arrive once it recovers', async () => {
    s = await syslogApp({
      storage: storageWithCommitHook(failFirstCommits(2)),
    });
    await sendUdp(s.udpPort, '<13>Nov 23 17:00:00 goodhost app: survives');
    const rows = await s.waitRows(1, "host = 'goodhost'");
    expect(rows[0]!.message).toBe('survives');
    expect(s.app.events.count('syslog.store_failed')).toBeGreaterThanOrEqual(1);
  });

  // the receiver stores through the group writer, which commits with ingestMany
  const flakyStorage = (state: { failing: boolean; calls: number }) =>
    storageWithCommitHook(() => {
      state.calls++;
      if (state.failing) throw new Error('SQLITE_BUSY: database is locked');
    });

  it('TCP under a stalled store: reads pause (bounded queue), nothing is dropped, all arrives after', async () => {
    const state = { failing: true, calls: 0 };
    s = await syslogApp({ storage: flakyStorage(state), syslog: { tuning: { maxPending: 500, flushLines: 100 } } });
    const N = 3000;
    const frames = Array.from({ length: N }, (_, i) => octet(`<13>Nov 23 17:00:00 goodhost app: n ${i}`));
    const sending = sendTcp(s.tcpPort, Buffer.concat(frames));
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, s!.app.syslog.pending())), 5);
    try {
      await waitFor('backpressure', () => s!.app.events.count('syslog.backpressure.on') >= 1);
      await waitFor('a retry while stalled', () => state.calls >= 2);
      state.failing = false;
      await sending;
      const rows = await s.waitRows(N, "host = 'goodhost'");
      expect(rows.map((r) => r.message)).toEqual(frames.map((_, i) => `n ${i}`));
    } finally {
      clearInterval(sampler);
    }
    expect(s.app.events.count('syslog.dropped')).toBe(0);
    // 500 queued at most, plus what was left of the socket chunk being read when reads paused
    expect(peak).toBeLessThan(500 + 2000);
    expect(s.app.events.count('syslog.backpressure.off')).toBeGreaterThanOrEqual(1);
  });

  it('UDP under a stalled store: lines past the queue bound are dropped and counted', async () => {
    const state = { failing: true, calls: 0 };
    s = await syslogApp({ storage: flakyStorage(state), syslog: { tuning: { maxPending: 100 } } });
    for (let i = 0; i < 150; i++) await sendUdp(s.udpPort, `<13>Nov 23 17:00:00 goodhost app: u ${i}`);
    await waitFor('150 received', () => s!.app.events.count('syslog.received') === 150);
    expect(s.app.events.count('syslog.dropped')).toBe(50);
    state.failing = false;
    const rows = await s.waitRows(100, "host = 'goodhost'");
    expect(rows.map((r) => r.message)).toEqual(Array.from({ length: 100 }, (_, i) => `u ${i}`));
  });

  it('what is queued when the app closes is stored', async () => {
    // held: handed to the writer only after a minute, idle or not
    s = await syslogApp({ syslog: { tuning: { flushMs: 60_000, idleMs: 60_000 } } });
    await sendUdp(s.udpPort, '<13>Nov 23 17:00:00 goodhost app: queued');
    await waitFor('queued', () => s!.app.syslog.pending() === 1);
    await s.app.close();
    const db = openSqliteStorage(s.dir);
    try {
      expect((await db.logs.query({ limit: 10 })).items.map((i) => i.message)).toEqual(['queued']);
    } finally {
      db.close();
    }
  });
});
