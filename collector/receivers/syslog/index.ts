// The syslog receiver as a Fastify plugin: decorates `app.syslog` (a Receiver) and stores every
// message through the collector's one writer path (app.writer: group commit, in the writer
// thread on the server, with the ingest pipeline's filters and clamping), host = the message's HOSTNAME or the sender's IP,
// source `syslog:udp` / `syslog:tcp` / `syslog:tls`. Sockets open only in start(); preClose stops them and
// stores what is queued.
import type { Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import fp from 'fastify-plugin';
import { ConfigError } from '../../../shared/errors.js';
import { isValidTimeZone } from '../../../shared/logline/index.js';
import type { Receiver, ReceiverAddress } from '../types.js';
import type { StagedUnit } from '../../ingest/writer.js';
import { SyslogBatcher } from './batcher.js';
import { frameSink } from './ingest.js';
import { listenTcp, type TcpReceiver } from './tcp.js';
import { listenUdp } from './udp.js';
import type { TlsContexts } from '../../tls.js';

declare module 'fastify' {
  interface FastifyInstance {
    syslog: Receiver & { pending(): number; tcpConnections(): number };
  }
}

export interface SyslogOptions {
  enabled: boolean;
  host: string;
  /** 0 picks a free port (tests); the bound port is in addresses() */
  udp_port: number;
  tcp_port: number;
  /** IANA zone of RFC 3164 stamps (they carry none) */
  time_zone: string;
  max_message_bytes: number;
  max_connections: number;
  idle_timeout_ms: number;
  /** syslog over TLS (RFC 5425); opens only when the collector has a certificate (`tls` option) */
  tls_port: number;
}

export const SYSLOG_DEFAULTS: SyslogOptions = {
  enabled: true,
  host: '127.0.0.1',
  udp_port: 5514,
  tcp_port: 5514,
  time_zone: 'UTC',
  max_message_bytes: 65536,
  max_connections: 512,
  idle_timeout_ms: 600_000,
  tls_port: 6514,
};

/** Tuning the tests shrink; not configuration an operator needs. */
export interface SyslogTuning {
  flushMs?: number;
  flushLines?: number;
  /** how long lines wait for more when the writer has nothing of the receiver's (0: the next event-loop turn) */
  idleMs?: number;
  maxPending?: number;
}

export const syslogPlugin = fp<{ syslog?: Partial<SyslogOptions>; tuning?: SyslogTuning; tls?: TlsContexts }>(
  async (app, opts) => {
    const o: SyslogOptions = { ...SYSLOG_DEFAULTS, ...opts.syslog };
    const t = opts.tuning ?? {};
    if (!isValidTimeZone(o.time_zone)) {
      throw new ConfigError('--syslog-time-zone', `unknown IANA time zone '${o.time_zone}' (e.g. UTC, Europe/Berlin)`);
    }
    let tcp: TcpReceiver | null = null;
    let tls: TcpReceiver | null = null;
    let udp: Socket | null = null;
    let addresses: ReceiverAddress[] = [];
    let starting: Promise<ReceiverAddress[]> | null = null;
    const batcher = new SyslogBatcher<StagedUnit>({
      // Not app.storage.logs: a write on the main connection beside the writer thread would wait
      // for its lock in SQLite's busy handler, which blocks the event loop.
      store: async (unit) => {
        const acks = await app.writer.submitStaged(unit);
        const now = app.clock();
        for (const host of unit.hosts) app.hosts.heard(host, now, { source: 'syslog' });
        return acks;
      },
      // a unit is kept packed, as the writer thread takes it, from when it is taken
      stager: { stage: (batches, at) => app.writer.stageMany(batches, at), restream: (unit, stream) => app.writer.restream(unit, stream) },
      clock: app.clock,
      events: app.events,
      // Lines wait 10 ms for others when the writer has nothing of the receiver's (reads of many
      // connections in one unit, not a commit per read), 50 ms or 8,000 lines for a unit staged
      // behind one committing; 20,000 lines held at most (queued and committing) before TCP reads
      // pause (40,000 cost ~60–100 MB more peak RSS in the syslog bench, for no more lines/s).
      flushMs: t.flushMs ?? 50,
      flushLines: t.flushLines ?? 8_000,
      idleMs: t.idleMs ?? 10,
      maxPending: t.maxPending ?? 20_000,
      // TCP senders with flow control (syslog-ng, rsyslog) slow down instead of losing lines.
      onPressure: (high) => {
        tcp?.setPaused(high);
        tls?.setPaused(high);
      },
    });
    const sink = frameSink({ batcher, events: app.events, clock: app.clock, timeZone: o.time_zone });

    async function open(): Promise<ReceiverAddress[]> {
      if (!o.enabled) return [];
      let key = '--syslog-tcp-port';
      try {
        tcp = await listenTcp(
          { host: o.host, port: o.tcp_port, maxFrame: o.max_message_bytes, maxConnections: o.max_connections, idleTimeoutMs: o.idle_timeout_ms },
          sink,
          app.events,
        );
        key = '--syslog-udp-port';
        udp = await listenUdp(o.host, o.udp_port, o.max_message_bytes, sink, app.events);
        if (opts.tls) {
          key = '--syslog-tls-port';
          tls = await listenTcp(
            { host: o.host, port: o.tls_port, maxFrame: o.max_message_bytes, maxConnections: o.max_connections, idleTimeoutMs: o.idle_timeout_ms, tls: opts.tls },
            sink,
            app.events,
          );
        }
      } catch (err) {
        await close();
        starting = null;
        const e = err as NodeJS.ErrnoException;
        const port = key === '--syslog-tcp-port' ? o.tcp_port : key === '--syslog-tls-port' ? o.tls_port : o.udp_port;
        throw new ConfigError(key, `syslog receiver cannot listen on ${o.host}:${port}: ${e.code ?? e.message}`);
      }
      const t4 = tcp!.server.address() as AddressInfo;
      const u4 = udp!.address();
      addresses = [
        { transport: 'udp', host: o.host, port: u4.port },
        { transport: 'tcp', host: o.host, port: t4.port },
      ];
      const tlsPort = tls ? (tls.server.address() as AddressInfo).port : undefined;
      if (tlsPort !== undefined) addresses.push({ transport: 'tls', host: o.host, port: tlsPort });
      app.events.emit('syslog.listening', { udp: u4.port, tcp: t4.port, ...(tlsPort !== undefined ? { tls: tlsPort } : {}), host: o.host });
      return addresses;
    }

    async function close(): Promise<void> {
      const closing: Array<Promise<void>> = [];
      if (tcp) closing.push(tcp.close());
      if (tls) closing.push(tls.close());
      if (udp) {
        const u = udp;
        closing.push(new Promise<void>((resolve) => u.close(() => resolve())));
      }
      tcp = null;
      tls = null;
      udp = null;
      addresses = [];
      await Promise.all(closing);
    }

    app.decorate('syslog', {
      name: 'syslog',
      start() {
        starting ??= open();
        return starting;
      },
      async stop() {
        await starting?.catch(() => undefined);
        starting = null;
        await close();
        await batcher.settle();
      },
      addresses: () => addresses,
      pending: () => batcher.pending,
      tcpConnections: () => (tcp?.connections() ?? 0) + (tls?.connections() ?? 0),
    });
    // preClose: before the storage plugin's onClose closes the database the final flush needs.
    app.addHook('preClose', async () => {
      await app.syslog.stop();
      await batcher.close();
    });
  },
  { name: 'ringtail-syslog', dependencies: ['ringtail-storage', 'ringtail-hosts', 'ringtail-writer'] },
);
