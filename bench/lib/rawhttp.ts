// A load generator's HTTP/1.1 client, as cheap as it can be made: one keep-alive socket per
// simulated agent, request heads and bodies prepared before the measurement (Buffers written as
// they are), answers parsed only as far as status and body. The load bench's `fetch` (undici)
// cost ~0.5 ms of generator CPU per request, so 2,000 requests/s took most of a core the
// collector needed on this 2-core machine; a prepared request costs one write and one small parse.
import { connect, type Socket } from 'node:net';

export interface RawAnswer {
  status: number;
  body: string;
  /** the status line and headers, as received */
  head: string;
}

/** the `dur` of a Server-Timing metric in an answer's headers (ms), NaN when absent */
export function serverTiming(a: RawAnswer, metric: string): number {
  const m = new RegExp(`\\r\\nserver-timing:[^\\r]*\\b${metric};dur=([0-9.]+)`, 'i').exec(a.head);
  return m ? Number(m[1]) : NaN;
}

/** every `name;dur=ms` of an answer's Server-Timing header */
export function serverTimings(a: RawAnswer): Record<string, number> {
  const h = /\r\nserver-timing:([^\r]*)/i.exec(a.head)?.[1] ?? '';
  const out: Record<string, number> = {};
  for (const m of h.matchAll(/([\w-]+);dur=([0-9.]+)/g)) out[m[1]!] = Number(m[2]);
  return out;
}

/**
 * Where the slowest requests' time went: the median of each Server-Timing phase over the
 * requests whose `ack` is at or above its p99, beside the median over all of them. Also the
 * rows for a TSV (one line per request: seconds into the run, first request or not, the client's
 * ms, then the phases).
 */
export function phaseReport(rows: Array<{ at: number; first: boolean; client: number; t: Record<string, number> }>): { summary: string; tsv: string } {
  const names = [...new Set(rows.flatMap((r) => Object.keys(r.t)))];
  const med = (xs: number[]) => {
    const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
    return s.length ? s[Math.floor(s.length / 2)]! : NaN;
  };
  const acks = rows.map((r) => r.t.ack ?? NaN).filter(Number.isFinite).sort((a, b) => a - b);
  const p99 = acks[Math.floor(acks.length * 0.99)] ?? Infinity;
  const tail = rows.filter((r) => (r.t.ack ?? -1) >= p99);
  const summary = names.map((n) => `${n} ${med(rows.map((r) => r.t[n] ?? NaN)).toFixed(1)}/${med(tail.map((r) => r.t[n] ?? NaN)).toFixed(1)}`).join(', ') + ` (${tail.length} in the tail, ${tail.filter((r) => r.first).length} of them first requests)`;
  const tsv = ['at_s\tfirst\tclient_ms\t' + names.join('\t'), ...rows.map((r) => `${r.at.toFixed(3)}\t${r.first ? 1 : 0}\t${r.client.toFixed(2)}\t${names.map((n) => r.t[n] ?? '').join('\t')}`)].join('\n') + '\n';
  return { summary, tsv };
}

/** The bytes of one POST with a JSON body, ready to write. */
export function prepareRequest(path: string, token: string, body: string, host = '127.0.0.1'): Buffer {
  const payload = Buffer.from(body);
  const head = `POST ${path} HTTP/1.1\r\nhost: ${host}\r\nauthorization: Bearer ${token}\r\ncontent-type: application/json\r\ncontent-length: ${payload.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head), payload]);
}

/** The bytes of one GET. */
export function prepareGet(path: string, token: string, host = '127.0.0.1'): Buffer {
  return Buffer.from(`GET ${path} HTTP/1.1\r\nhost: ${host}\r\nauthorization: Bearer ${token}\r\n\r\n`);
}

/** One connection, one request at a time (an agent waits for its answer before the next). */
export class RawConnection {
  private socket: Socket | null = null;
  private buf: Buffer = Buffer.alloc(0);
  /**
   * Chunks of an answer whose head has come but not all its body: joined once when complete.
   * Joined at every chunk, a 7 MB answer (the hosts list with 31,000 hosts) copied ~400 MB.
   */
  private tail: Buffer[] = [];
  private tailBytes = 0;
  /** bytes the answer being read needs (head + body); 0 while its head is incomplete */
  private need = 0;
  private waiter: { resolve(a: RawAnswer): void; reject(e: Error): void } | null = null;

  constructor(
    private readonly port: number,
    private readonly host = '127.0.0.1',
  ) {}

  private open(): Promise<Socket> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve(this.socket);
    return new Promise((resolve, reject) => {
      const s = connect(this.port, this.host);
      s.setNoDelay(true);
      s.once('connect', () => resolve(s));
      s.once('error', (err) => {
        reject(err);
        this.fail(err);
      });
      s.on('data', (d: Buffer) => {
        if (this.need > 0 && this.buf.length + this.tailBytes + d.length < this.need) {
          this.tail.push(d);
          this.tailBytes += d.length;
          return;
        }
        this.buf = this.buf.length === 0 && this.tail.length === 0 ? d : Buffer.concat([this.buf, ...this.tail, d]);
        this.tail = [];
        this.tailBytes = 0;
        this.parse();
      });
      s.on('close', () => this.fail(new Error('connection closed')));
      this.socket = s;
      this.buf = Buffer.alloc(0);
      this.tail = [];
      this.tailBytes = 0;
      this.need = 0;
    });
  }

  private fail(err: Error): void {
    this.socket = null;
    const w = this.waiter;
    this.waiter = null;
    w?.reject(err);
  }

  private parse(): void {
    const end = this.buf.indexOf('\r\n\r\n');
    if (end < 0 || !this.waiter) return;
    const head = this.buf.toString('latin1', 0, end);
    const status = Number(head.slice(9, 12));
    const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    const len = m ? Number(m[1]) : 0;
    if (this.buf.length < end + 4 + len) {
      this.need = end + 4 + len;
      return;
    }
    this.need = 0;
    const body = this.buf.toString('utf8', end + 4, end + 4 + len);
    this.buf = this.buf.subarray(end + 4 + len);
    const w = this.waiter;
    this.waiter = null;
    if (/\r\nconnection:\s*close/i.test(head)) this.socket?.destroy();
    w.resolve({ status, body, head });
  }

  async send(request: Buffer): Promise<RawAnswer> {
    const s = await this.open();
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      s.write(request);
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
  }
}
