// One turn of the event loop reads a bounded number of frames over all TCP connections
// (tcp.ts, TURN_FRAMES): past it every connection pauses until the next turn, so that the
// writer thread's answer (which posts its next group) is handled between reads instead of
// after all of them. Real sockets on 127.0.0.1; the turns are counted by a setImmediate loop.
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { listenTcp, type TcpReceiver } from '../../collector/receivers/syslog/tcp.js';
import type { FrameSink } from '../../collector/receivers/syslog/ingest.js';
import { createEvents } from '../../shared/events.js';
import { waitFor } from '../helpers/proc.js';

let rx: TcpReceiver | null = null;
const clients: Socket[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await rx?.close();
  rx = null;
});

/** `n` LF-framed lines of ~100 bytes from connection `c` */
function lines(c: number, n: number): Buffer {
  return Buffer.from(Array.from({ length: n }, (_, i) => `<13>Nov 23 17:00:00 h${c} app: c${c} n${i} ${'x'.repeat(60)}\n`).join(''));
}

async function run(turnFrames: number | undefined): Promise<{ perTurn: number[]; got: Map<number, number[]> }> {
  let count = 0;
  const got = new Map<number, number[]>();
  const sink: FrameSink = {
    frame(conn, _source, _peer, bytes) {
      count++;
      const m = /c(\d+) n(\d+)/.exec(bytes.toString('latin1'))!;
      const c = Number(m[1]);
      if (!got.has(c)) got.set(c, []);
      got.get(c)!.push(Number(m[2]));
      return true;
    },
    flushCounts() {},
    closed() {},
  };
  rx = await listenTcp({ host: '127.0.0.1', port: 0, maxFrame: 65536, maxConnections: 64, idleTimeoutMs: 60_000, ...(turnFrames !== undefined ? { turnFrames } : {}) }, sink, createEvents());
  const port = (rx.server.address() as { port: number }).port;
  const conns = 8;
  const per = 2_000;
  // Everything is sent while reads are paused, so that the first turn after they resume finds
  // every connection ready at once (as 50 busy senders do).
  rx.setPaused(true);
  for (let c = 0; c < conns; c++) {
    const s = connect(port, '127.0.0.1');
    clients.push(s);
    s.write(lines(c, per));
  }
  await waitFor('connections', () => rx!.connections() === conns);
  await new Promise((r) => setTimeout(r, 200)); // the bytes reach the receiver's socket buffers
  const perTurn: number[] = [];
  let done = false;
  const tick = () => {
    perTurn.push(count);
    count = 0;
    if (!done) setImmediate(tick);
  };
  setImmediate(tick);
  rx.setPaused(false);
  await waitFor('every line', () => [...got.values()].reduce((n, l) => n + l.length, 0) === conns * per);
  done = true;
  return { perTurn, got };
}

describe('syslog TCP receiver: frames per turn of the event loop', () => {
  it('past turnFrames reads pause until the next turn; every line arrives once, in order per connection', async () => {
    const { perTurn, got } = await run(500);
    // one socket read can finish past the bound (a chunk of up to 64 KiB, ~650 of these lines)
    expect(Math.max(...perTurn)).toBeLessThanOrEqual(500 + 700);
    expect(perTurn.filter((n) => n > 0).length).toBeGreaterThanOrEqual(8);
    for (const [, ns] of got) expect(ns).toEqual(Array.from({ length: 2_000 }, (_, i) => i));
  });

  it('without the bound, one turn reads from every ready connection (what the bound prevents)', async () => {
    const { perTurn } = await run(Number.MAX_SAFE_INTEGER);
    expect(Math.max(...perTurn)).toBeGreaterThan(500 + 700);
  });
});
