// TCP (RFC 6587): octet counting or LF framing per frame (framing.ts). One stream per
// connection. Bounded per connection (the framer's cap), a cap on connections, an idle timeout
// for silent or half-open peers, keep-alive probes, and reads paused while the store catches up.
// The same receiver speaks TLS (RFC 5425, `tls` given): the framing and everything above are
// unchanged, a connection starts once its handshake is done.
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { EventSink } from '../../../shared/events.js';
import { Framer } from './framing.js';
import type { FrameSink } from './ingest.js';
import type { TlsContexts } from '../../tls.js';

export const TCP_SOURCE = 'syslog:tcp';
export const TLS_SOURCE = 'syslog:tls';
/**
 * How long a held octet-counted frame waits for the bytes after it: those were written with it
 * by the sender (a lying count swallows what follows it), so they come within a round trip.
 */
export const HOLD_MS = 250;
/**
 * Frames read, over all connections, before reads pause until the next turn of the event loop.
 * One turn's reads were unbounded: libuv reads every ready connection, up to 32 × 64 KiB each, so
 * 50 busy senders made one turn of ~25,000 lines (~0.3 s of parsing), and the writer thread,
 * whose next group is posted from this thread when its last commit is answered, sat idle for
 * it; then the receiver was paused (maxPending) while the writer committed the lot. The two
 * threads took turns instead of working at once (syslog bench, 50 connections).
 */
export const TURN_FRAMES = 2_000;

export interface TcpOptions {
  host: string;
  port: number;
  maxFrame: number;
  maxConnections: number;
  idleTimeoutMs: number;
  /** RFC 5425: the collector's certificate (its server is registered there for SIGHUP reloads) */
  tls?: TlsContexts;
  /** TURN_FRAMES (tests) */
  turnFrames?: number;
}

export interface TcpReceiver {
  server: Server;
  connections(): number;
  setPaused(paused: boolean): void;
  close(): Promise<void>;
}

export async function listenTcp(o: TcpOptions, sink: FrameSink, events: EventSink): Promise<TcpReceiver> {
  const sockets = new Set<Socket>();
  let seq = 0;
  /** the store is behind (setPaused) */
  let paused = false;
  /** this turn's reads have had their frames (TURN_FRAMES): the rest wait for the next turn */
  let yielded = false;
  let frames = 0;
  const turnFrames = o.turnFrames ?? TURN_FRAMES;
  const apply = (p: boolean) => {
    for (const s of sockets) {
      if (p) s.pause();
      else s.resume();
    }
  };
  const resumeTurn = () => {
    yielded = false;
    frames = 0;
    if (!paused) apply(false);
  };
  const kind = o.tls ? 'tls' : 'tcp';
  const source = o.tls ? TLS_SOURCE : TCP_SOURCE;
  const onSocket = (socket: Socket) => {
    if (sockets.size >= o.maxConnections) {
      events.emit('syslog.tcp.refused', { peer: socket.remoteAddress, open: sockets.size }, 'warn');
      socket.destroy();
      return;
    }
    sockets.add(socket);
    const peer = socket.remoteAddress ?? 'unknown';
    const conn = `${kind}/${peer}/${socket.remotePort ?? 0}/${++seq}`;
    events.emit('syslog.tcp.connected', { conn }, 'debug');
    const framer = new Framer(o.maxFrame, {
      frame: (f) => {
        frames++;
        sink.frame(conn, source, peer, f.bytes, f.truncated, f.partial, false);
      },
      countMismatch: () => events.emit('syslog.frame.count_mismatch', { conn }, 'debug'),
    });
    // A frame held to see whether its count lied (framing.ts) goes out when the connection stays
    // quiet for HOLD_MS, not only when the next frame or the end of the connection comes.
    let hold: NodeJS.Timeout | null = null;
    const settle = () => {
      hold = null;
      try {
        framer.settle();
      } catch (err) {
        events.emit('syslog.tcp.error', { conn, error: (err as Error).message }, 'warn');
        socket.destroy();
      }
      sink.flushCounts();
    };
    socket.setTimeout(o.idleTimeoutMs);
    socket.on('timeout', () => {
      events.emit('syslog.tcp.idle_closed', { conn, buffered: framer.buffered }, 'debug');
      socket.destroy();
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        framer.push(chunk);
      } catch (err) {
        // A bug in framing must cost this connection, never the collector.
        events.emit('syslog.tcp.error', { conn, error: (err as Error).message }, 'warn');
        socket.destroy();
      }
      sink.flushCounts();
      if (hold !== null) clearTimeout(hold);
      hold = framer.holding ? setTimeout(settle, HOLD_MS) : null;
      if (frames >= turnFrames && !yielded) {
        yielded = true;
        if (!paused) apply(true);
        setImmediate(resumeTurn);
      }
    });
    socket.on('error', (err) => events.emit('syslog.tcp.socket_error', { conn, error: err.message }, 'debug'));
    socket.on('close', () => {
      sockets.delete(socket);
      if (hold !== null) clearTimeout(hold);
      try {
        framer.end();
      } catch (err) {
        events.emit('syslog.tcp.error', { conn, error: (err as Error).message }, 'warn');
      }
      sink.flushCounts();
      sink.closed(conn);
      events.emit('syslog.tcp.closed', { conn }, 'debug');
    });
    if (paused || yielded) socket.pause();
  };
  const keepAlive = { keepAlive: true, keepAliveInitialDelay: 60_000 };
  const server: Server = o.tls ? createTlsServer({ ...o.tls.options(), ...keepAlive, handshakeTimeout: 30_000 }, onSocket) : createServer(keepAlive, onSocket);
  if (o.tls) o.tls.register(server as import('node:tls').Server, events, 'syslog-tls');
  server.on('error', (err) => events.emit('syslog.tcp.error', { error: err.message }, 'warn'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: o.host, port: o.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    connections: () => sockets.size,
    setPaused(p) {
      paused = p;
      if (!yielded) apply(p);
    },
    async close() {
      if (o.tls) o.tls.unregister(server as import('node:tls').Server);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
  };
}
