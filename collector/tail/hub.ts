// Fans newly committed lines out to live-tail clients. After each commit the hub reads the new
// rows once (by id, in chunks) and offers them to every client, which applies its own filters
// (fields in JS, `q` through FTS5 restricted to the new rowids, `re` in the regex worker).
import { RingtailError } from '../../shared/errors.js';
import type { EventSink } from '../../shared/events.js';
import type { RegexRunner } from '../query/regex.js';
import type { LogStore } from '../storage/types.js';
import type { TailClient } from './client.js';

const CHUNK = 1000;

export class TailHub {
  readonly clients = new Set<TailClient>();
  private lastId = 0;
  private running = false;
  private dirty = false;
  private heartbeat: NodeJS.Timeout | null = null;

  constructor(
    private readonly logs: () => LogStore,
    private readonly regex: RegexRunner,
    private readonly events: EventSink,
    private readonly heartbeatMs: number,
  ) {}

  currentId(): number {
    return this.logs().maxId();
  }

  add(client: TailClient): void {
    if (this.clients.size === 0) this.lastId = this.logs().maxId();
    this.clients.add(client);
    client.res.on('close', () => this.remove(client));
    this.heartbeat ??= setInterval(() => {
      for (const c of this.clients) c.comment(`heartbeat ${Date.now()}`);
    }, this.heartbeatMs).unref();
    // A reconnecting client (Last-Event-ID) gets what it missed since then, up to the present.
    if (client.fromId < this.lastId) void this.deliver([client], client.fromId, this.lastId);
  }

  remove(client: TailClient): void {
    client.end();
    this.clients.delete(client);
    if (this.clients.size === 0 && this.heartbeat) {
      clearInterval(this.heartbeat);
      this.heartbeat = null;
    }
  }

  closeAll(): void {
    for (const c of [...this.clients]) this.remove(c);
  }

  /** called after every commit that stored lines */
  wake(): void {
    if (this.clients.size === 0) return;
    if (this.running) {
      this.dirty = true;
      return;
    }
    this.running = true;
    void this.pump().finally(() => {
      this.running = false;
    });
  }

  private async pump(): Promise<void> {
    do {
      this.dirty = false;
      const upto = this.logs().maxId();
      await this.deliver([...this.clients], this.lastId, upto);
      this.lastId = Math.max(this.lastId, upto);
    } while (this.dirty && this.clients.size > 0);
  }

  private async deliver(clients: TailClient[], from: number, upto: number): Promise<void> {
    let lo = from;
    while (lo < upto) {
      const rows = this.logs().since(lo, CHUNK).filter((r) => r.id <= upto);
      if (rows.length === 0) break;
      const hi = rows[rows.length - 1]!.id;
      for (const c of clients) {
        try {
          await c.offer(rows, lo, hi, this.logs(), this.regex);
        } catch (err) {
          const e = err instanceof RingtailError ? err : new RingtailError('RINGTAIL_ERR_INTERNAL', (err as Error).message, 500);
          this.events.emit('tail.client_error', { code: e.code, message: e.message }, 'warn');
          c.error(e.code, e.message);
          this.remove(c);
        }
      }
      lo = hi;
    }
  }
}
