// UDP (RFC 5426): one message per datagram, up to 64 KiB; one stream per sender address.
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { EventSink } from '../../../shared/events.js';
import type { FrameSink } from './ingest.js';

export const UDP_SOURCE = 'syslog:udp';

export async function listenUdp(host: string, port: number, maxFrame: number, sink: FrameSink, events: EventSink): Promise<Socket> {
  const socket = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', recvBufferSize: 4 * 1024 * 1024 });
  socket.on('message', (msg, rinfo) => {
    let end = msg.length;
    // A trailing LF, CR or NUL is framing some senders add, not content.
    while (end > 0 && (msg[end - 1] === 0x0a || msg[end - 1] === 0x0d || msg[end - 1] === 0x00)) end--;
    if (end === 0) {
      events.emit('syslog.rejected', { reason: 'empty', peer: rinfo.address }, 'debug');
      events.add('syslog.rejected.empty', 1);
      return;
    }
    const truncated = end > maxFrame;
    sink.frame(`udp/${rinfo.address}`, UDP_SOURCE, rinfo.address, msg.subarray(0, Math.min(end, maxFrame)), truncated, false, true);
    sink.flushCounts();
  });
  // An ICMP error or a bad datagram must not take the receiver down.
  socket.on('error', (err) => events.emit('syslog.udp.error', { error: err.message }, 'warn'));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: host, port }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return socket;
}
