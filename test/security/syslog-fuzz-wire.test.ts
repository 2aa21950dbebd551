// Junk over real sockets to the syslog receiver: the framer's unit fuzz (test/unit/syslog-fuzz.test.ts)
// feeds the Framer directly; this drives the TCP and UDP listeners of a real app with octet counts
// that lie, huge counts, binary, NUL, unterminated frames and connections opened and abandoned,
// then checks that a valid line still arrives, that nothing stored exceeds the message cap, and
// that /healthz answers promptly. Seeded: replay with RINGTAIL_FUZZ_SEED=<n>.
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rng } from '../helpers/rng.js';
import { junk, octet, openTcp, sendTcp, sendUdp, syslogApp, type SyslogApp } from '../helpers/syslog.js';
import { waitFor } from '../helpers/proc.js';

const MAX_MESSAGE = 8192;
const MAX_CONNECTIONS = 24;
const IDLE_MS = 1500;
const SEED = Number(process.env.RINGTAIL_FUZZ_SEED ?? 7);

let s: SyslogApp;
beforeAll(async () => {
  s = await syslogApp({ syslog: { max_message_bytes: MAX_MESSAGE, max_connections: MAX_CONNECTIONS, idle_timeout_ms: IDLE_MS } });
});
afterAll(async () => s?.close());

let markers = 0;
/** A valid line over a fresh TCP connection and one over UDP both arrive. */
async function validLinesArrive(tag: string): Promise<void> {
  const id = `${tag}-${++markers}-${Date.now()}`;
  await waitFor(`a TCP connection is accepted for ${id}`, async () => {
    await sendTcp(s.tcpPort, `<14>Oct  1 12:34:56 probe app: tcp marker ${id}\n`);
    return s.rows('message LIKE ?', `%tcp marker ${id}%`).length > 0;
  }, 15_000, 100);
  await sendUdp(s.udpPort, `<14>Oct  1 12:34:56 probe app: udp marker ${id}`);
  await s.waitRows(1, 'message LIKE ?', `%udp marker ${id}%`);
}

async function healthzPromptly(): Promise<number> {
  const started = performance.now();
  const res = await s.app.inject({ method: 'GET', url: '/healthz' });
  expect(res.statusCode).toBe(200);
  return performance.now() - started;
}

function writeAll(sock: Socket, data: Buffer | string): Promise<void> {
  return new Promise((resolve) => {
    if (sock.destroyed) return resolve();
    sock.write(data, () => resolve());
  });
}

const PIECES = ['<13>', '<191>', '<999>', '<-1>', '<>', '1 ', '12 ', '99999 ', '99999999999999999999 ', '0 ', '-5 ', '00012 ', '\n', '\r\n', '\0', ' ', 'Oct  1 12:34:56 ', '2026-01-12T11:15:58.1+00:00 ', '- ', '[a@1 b="c\\"]"] ', 'host ', 'sshd[1]: ', '\uFEFF', '\uD800', 'msg'];

describe('syslog receiver over real sockets', () => {
  it('lying and huge octet counts, binary, NUL and unterminated frames over TCP', async () => {
    await sendTcp(s.tcpPort, '50 <13>short\n'); // count larger than what follows, then close
    await sendTcp(s.tcpPort, '3 <13>longer than three\n');
    await sendTcp(s.tcpPort, '99999999999999999999 <13>huge count\n');
    await sendTcp(s.tcpPort, `${MAX_MESSAGE * 100} `, Buffer.alloc(MAX_MESSAGE * 3, 0x41)); // a frame far over the cap
    await sendTcp(s.tcpPort, '0 \n-5 <13>x\n00012 <13>leading0\n');
    await sendTcp(s.tcpPort, junk(64 * 1024, SEED));
    await sendTcp(s.tcpPort, Buffer.alloc(10_000, 0));
    await sendTcp(s.tcpPort, '<13>nul\0inside\0frames\n\0\0\0\n');
    await sendTcp(s.tcpPort, '<13>unterminated at close');
    await sendTcp(s.tcpPort, 'x'.repeat(MAX_MESSAGE * 4)); // one unterminated line over the cap
    // one valid frame, one byte per write
    const one = await openTcp(s.tcpPort);
    for (const b of Buffer.from('<13>Oct  1 12:34:56 probe app: byte by byte\n')) await writeAll(one, Buffer.from([b]));
    one.end();
    await s.waitRows(1, "message LIKE '%byte by byte%'");
    await validLinesArrive('tcp-junk');
    expect(await healthzPromptly()).toBeLessThan(1000);
  });

  it(`seeded mix over many connections (seed ${SEED}), some abandoned mid-frame`, async () => {
    const r = rng(SEED);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
    const socks: Socket[] = [];
    for (let i = 0; i < MAX_CONNECTIONS - 4; i++) {
      const sock = await openTcp(s.tcpPort);
      sock.on('error', () => undefined);
      socks.push(sock);
    }
    for (let round = 0; round < 300; round++) {
      const sock = pick(socks);
      const parts: Buffer[] = [];
      for (let j = Math.floor(r() * 6); j >= 0; j--) {
        parts.push(r() < 0.3 ? junk(Math.floor(r() * 2000), Math.floor(r() * 2 ** 32)) : Buffer.from(pick(PIECES)));
      }
      await writeAll(sock, Buffer.concat(parts));
    }
    // half are destroyed without a FIN, half just abandoned (left open, mid-frame)
    socks.forEach((sock, i) => (i % 2 ? sock.destroy() : undefined));
    await validLinesArrive(`mix-${SEED}`);
    expect(await healthzPromptly()).toBeLessThan(1000);
    socks.forEach((sock) => sock.destroy());
  });

  it('a flood that fills every connection slot and abandons them: the receiver recovers', async () => {
    const socks: Socket[] = [];
    for (let i = 0; i < MAX_CONNECTIONS + 10; i++) {
      const sock = await openTcp(s.tcpPort).catch(() => null);
      if (!sock) continue;
      sock.on('error', () => undefined);
      socks.push(sock);
      await writeAll(sock, '<13>never finished');
    }
    // every slot is taken by a silent peer; the idle timeout frees them, then lines arrive again
    await validLinesArrive('after-flood');
    expect(await healthzPromptly()).toBeLessThan(1000);
    socks.forEach((sock) => sock.destroy());
  });

  it('junk datagrams over UDP: empty, NUL, binary, oversized, lying counts', async () => {
    const r = rng(SEED + 1);
    const grams: Buffer[] = [Buffer.alloc(0), Buffer.alloc(100, 0), Buffer.from('99999 <13>lying count'), Buffer.from('<13>'), Buffer.alloc(65_000, 0x42)];
    for (let i = 0; i < 200; i++) grams.push(r() < 0.5 ? junk(1 + Math.floor(r() * 3000), Math.floor(r() * 2 ** 32)) : Buffer.from(Array.from({ length: 1 + Math.floor(r() * 6) }, () => PIECES[Math.floor(r() * PIECES.length)]).join('')));
    await sendUdp(s.udpPort, ...grams);
    await validLinesArrive('udp-junk');
    expect(await healthzPromptly()).toBeLessThan(1000);
  });

  it('nothing stored exceeds the message cap', () => {
    const rows = s.rows();
    expect(rows.length).toBeGreaterThan(10);
    const over = rows.filter((row) => Buffer.byteLength(row.message) > MAX_MESSAGE).map((row) => `${Buffer.byteLength(row.message)} bytes: ${row.message.slice(0, 60)}`);
    expect(over).toEqual([]);
  });
});

/** f = "<13>x"; repeat depth times: g = "<13>x\n" + f; f = g.length + " " + g  (issue 12 #6) */
function nested(depth: number): string {
  let f = '<13>x';
  for (let i = 0; i < depth; i++) {
    const g = '<13>x\n' + f;
    f = `${Buffer.byteLength(g)} ${g}`;
  }
  return f;
}

// issue 12 #6, probed as a defect before its fix: the frames were re-framed and recursed until the
// stack overflowed at depth 5300.
describe('nested octet-counted frames (issue 12 #6)', () => {
  for (const depth of [300, 5300]) {
    it(`issue12#6, depth ${depth}: a nested octet-counted frame is one message, stored once, and the next line arrives promptly`, async () => {
      const app = await syslogApp({ syslog: { max_message_bytes: 65_536 } });
      try {
        const frame = nested(depth);
        expect(Buffer.byteLength(frame)).toBeLessThan(65_536);
        const started = performance.now();
        await sendTcp(app.tcpPort, frame, '\n<14>Oct  1 12:34:56 probe app: after the nested frame\n');
        // (3 s: it takes milliseconds; before the fix the connection died at depth 5300)
        await waitFor('the line after the nested frame', () => app.rows("message LIKE '%after the nested frame%'").length > 0, 3000);
        const ms = performance.now() - started;
        // the nested frame is one message, stored once; the line after it arrives promptly
        expect(app.rows().length).toBe(2);
        expect(ms).toBeLessThan(1000);
      } finally {
        await app.close();
      }
    });
  }
});
