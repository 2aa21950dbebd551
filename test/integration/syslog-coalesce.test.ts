// How the syslog receiver hands lines to the writer when many connections send at once: lines
// of all connections go together in large units (not one per connection or socket read), a
// second unit waits behind the one committing (the writer never waits for the event loop while
// lines wait), and when the writer is slower than the senders, reads pause so that what is held
// stays bounded, and every line read is stored. Real sockets on 127.0.0.1, a real SQLite file;
// the writer is slowed by holding each commit's answer back, not by blocking the event loop.
import { afterEach, describe, expect, it } from 'vitest';
import type { StagedUnit } from '../../collector/ingest/writer.js';
import type { IngestAck } from '../../shared/wire.js';
import { waitFor } from '../helpers/proc.js';
import { failFirstCommits, octet, sendTcp, storageWithCommitHook, syslogApp, type SyslogApp } from '../helpers/syslog.js';

let s: SyslogApp | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

interface Watch {
  /** units handed to the writer: the hosts of each */
  units: string[][];
  /** most units handed over and not answered at once */
  maxOutstanding: number;
}

/**
 * Wraps app.writer.submitStaged (what the receiver calls per unit); each answer is held `delayMs`
 * after the commit, and until `gate` (when given) resolves.
 */
function watchWriter(app: SyslogApp['app'], delayMs: number, gate?: Promise<void>): Watch {
  const w: Watch = { units: [], maxOutstanding: 0 };
  const writer = app.writer;
  const real = writer.submitStaged.bind(writer);
  let outstanding = 0;
  writer.submitStaged = async (unit: StagedUnit): Promise<IngestAck[]> => {
    w.units.push([...unit.hosts]);
    w.maxOutstanding = Math.max(w.maxOutstanding, ++outstanding);
    try {
      const acks = await real(unit).finally(() => (delayMs > 0 ? new Promise((r) => setTimeout(r, delayMs)) : undefined));
      await gate;
      return acks;
    } finally {
      outstanding--;
    }
  };
  return w;
}

function frames(conn: number, lines: number, host: (i: number) => string): Buffer {
  return Buffer.concat(Array.from({ length: lines }, (_, i) => octet(`<13>Nov 23 17:00:00 ${host(i)} app: c${conn} n${i} ${'x'.repeat(40)}`)));
}

describe('syslog receiver: coalescing and backpressure', () => {
  it('lines of 40 connections go to the writer together, in far fewer units than connections, every line once', async () => {
    // The writer's answers wait until every line was read (a slow commit): on this shared machine
    // the 40 senders' reads spread over seconds, and a unit takes what arrived during a commit.
    s = await syslogApp();
    let open!: () => void;
    const w = watchWriter(s.app, 0, new Promise<void>((r) => (open = r)));
    const conns = 40;
    const per = 250;
    const sent = Promise.all(Array.from({ length: conns }, (_, c) => sendTcp(s!.tcpPort, frames(c, per, () => `co-${c}`))));
    await waitFor('every line read', () => s!.app.events.count('syslog.received') === conns * per);
    open();
    await sent;
    const rows = await s.waitRows(conns * per, "host LIKE 'co-%'");
    expect(new Set(rows.map((r) => r.message)).size).toBe(conns * per);
    // every connection's lines in its order
    for (let c = 0; c < conns; c++) {
      const mine = rows.filter((r) => r.host === `co-${c}`).map((r) => Number(/ n(\d+) /.exec(r.message)![1]));
      expect(mine).toEqual([...Array(per).keys()]);
    }
    // two units with the writer while it is held, everything else in the one after them
    expect(w.units.length).toBeLessThanOrEqual(3);
    // a unit carries the lines of many connections (here one host per connection)
    expect(Math.max(...w.units.map((u) => u.length))).toBeGreaterThanOrEqual(conns / 2);
    expect(s.app.events.count('syslog.stored')).toBe(conns * per);
  });

  it('while the writer commits a unit, the next is staged behind it (two units with the writer)', async () => {
    // each commit answered 100 ms late: lines that arrive meanwhile are a unit of their own after flushMs (20 ms)
    s = await syslogApp();
    const w = watchWriter(s.app, 100);
    const sends: Array<Promise<void>> = [];
    // a burst, then another while the first is being committed
    sends.push(sendTcp(s.tcpPort, frames(0, 200, () => 'stage-a')));
    await waitFor('the first unit', () => w.units.length >= 1);
    sends.push(sendTcp(s.tcpPort, frames(1, 200, () => 'stage-b')));
    await Promise.all(sends);
    await s.waitRows(400, "host LIKE 'stage-%'");
    expect(w.maxOutstanding).toBe(2);
  });

  it('50 connections faster than the writer: reads pause, what is held stays bounded, every line is stored', async () => {
    const maxPending = 2000;
    s = await syslogApp({ syslog: { tuning: { maxPending, flushLines: 500 } } });
    // the writer answers each unit 50 ms late: far slower than 50 loopback senders
    watchWriter(s.app, 50);
    const conns = 50;
    const per = 400;
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, s!.app.syslog.pending())), 2);
    try {
      await Promise.all(Array.from({ length: conns }, (_, c) => sendTcp(s!.tcpPort, frames(c, per, (i) => `bp-${i % 7}`))));
      const rows = await s.waitRows(conns * per, "host LIKE 'bp-%'");
      expect(rows.length).toBe(conns * per);
      expect(new Set(rows.map((r) => r.message)).size).toBe(conns * per);
    } finally {
      clearInterval(sampler);
    }
    expect(s.app.events.count('syslog.backpressure.on')).toBeGreaterThanOrEqual(1);
    expect(s.app.events.count('syslog.dropped')).toBe(0);
    // reads pause, synchronously on every connection, when maxPending lines are held: beyond it
    // at most the rest of the one socket chunk being read (64 KiB: ~800 of these lines)
    expect(peak).toBeGreaterThan(maxPending / 2);
    expect(peak).toBeLessThan(maxPending + 1000);
    // the last answers come after the rows are visible (held back 50 ms): then nothing is held
    await waitFor('nothing held', () => s!.app.syslog.pending() === 0);
  });

  it('a unit that fails while the one staged behind it commits is stored anyway, once', async () => {
    // the first commit fails; its answer reaches the receiver 150 ms later, after the second
    // unit (the same host's next lines, the same stream) was staged and committed
    s = await syslogApp({
      storage: storageWithCommitHook(failFirstCommits(1)),
    });
    const w = watchWriter(s.app, 150);
    const sending = sendTcp(s.tcpPort, frames(0, 100, () => 'fail-a'));
    await waitFor('the first unit', () => w.units.length >= 1);
    await sending;
    await sendTcp(s.tcpPort, frames(1, 100, () => 'fail-a'));
    const rows = await s.waitRows(200, "host = 'fail-a'");
    expect(w.maxOutstanding).toBe(2);
    expect(s.app.events.count('syslog.store_failed')).toBe(1);
    expect(new Set(rows.map((r) => r.message)).size).toBe(200);
    await waitFor('nothing held', () => s!.app.syslog.pending() === 0);
    expect(s.app.events.count('syslog.stored')).toBe(200);
  });
});
