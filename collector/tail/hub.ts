// Fans newly committed lines out to live-tail clients. After each commit the hub reads the new
// rows once (by id, in chunks bounded by bytes) and offers them to every client, which applies
// its own filters (fields in JS, `q` through FTS5 restricted to the new rowids, `re` in the regex
// workers). Each line's event is encoded once per chunk and the same bytes go to every client.
// The hub also holds the caps on clients, in total and per token.
// A store whose ids are not in commit order (a ClickHouse cluster) gives a feed instead
// (LogStore.tailFeed): the hub then asks it for new lines at every wake and poll, and a
// reconnect's Last-Event-ID replays nothing (there is no id to continue after).
import { RingtailError } from '../../shared/errors.js';
import type { EventSink } from '../../shared/events.js';
import type { LogItem } from '../../shared/wire.js';
import type { RegexRunner } from '../query/regex.js';
import { KeyedSlots } from '../query/slots.js';
import type { LogStore, TailFeed } from '../storage/types.js';
import { encodeEvent, type TailClient } from './client.js';
import { RowReader } from './rows.js';

export interface HubLimits {
  maxClients: number;
  maxClientsPerToken: number;
}

export class TailHub {
  readonly clients = new Set<TailClient>();
  private readonly slots: KeyedSlots;
  private readonly releases = new Map<TailClient, () => void>();
  private readonly reader: RowReader;
  private lastId = 0;
  /** the store's feed while clients are connected (stores without commit-ordered ids) */
  private feed: TailFeed | null = null;
  private running = false;
  private dirty = false;
  private heartbeat: NodeJS.Timeout | null = null;
  private poll: NodeJS.Timeout | null = null;

  constructor(
    private readonly logs: () => LogStore,
    private readonly regex: RegexRunner,
    private readonly events: EventSink,
    private readonly heartbeatMs: number,
    limits: HubLimits,
    /** > 0: also look for new lines this often (a store shared with other collectors) */
    private readonly pollMs = 0,
  ) {
    this.reader = new RowReader(logs);
    this.slots = new KeyedSlots({
      what: 'live-tail clients',
      total: limits.maxClients,
      totalName: 'tail.max_clients',
      perKey: limits.maxClientsPerToken,
      perKeyName: 'tail.max_clients_per_token',
    });
  }

  /** where a new client starts (0 on a store with a feed: the feed starts at the present) */
  currentId(): Promise<number> {
    return this.logs().tailFeed ? Promise.resolve(0) : this.logs().maxId();
  }

  /** A place for one more client of `key`, or a coded 503/429 naming the cap; give it to add(). */
  admit(key: string): () => void {
    return this.slots.acquire(key);
  }

  /** `now`: the store's largest id when the client was admitted (currentId()) */
  add(client: TailClient, release: () => void, now: number): void {
    // the hub delivered nothing while it had no clients: it goes on from the client's present
    if (this.clients.size === 0) this.lastId = now;
    const feeds = this.logs().tailFeed;
    if (feeds && !this.feed) this.feed = feeds.call(this.logs());
    this.clients.add(client);
    this.releases.set(client, release);
    client.res.on('close', () => this.remove(client));
    // a client that hung up while its request was handled never emits 'close' again
    if (!client.res.socket || client.res.socket.destroyed) {
      this.remove(client);
      return;
    }
    this.heartbeat ??= setInterval(() => {
      for (const c of this.clients) c.comment(`heartbeat ${Date.now()}`);
    }, this.heartbeatMs).unref();
    // a store other collectors write to as well (ClickHouse) commits lines this one is not told of
    if (this.pollMs > 0) this.poll ??= setInterval(() => this.wake(), this.pollMs).unref();
    // A reconnecting client (Last-Event-ID) gets what it missed since then, up to the present;
    // then (or at once) the lines committed while its request was handled (the store is read
    // asynchronously, so commits can land between `now` and here)
    if (!this.feed && client.fromId < this.lastId) {
      void this.deliver([client], client.fromId, this.lastId).then(
        () => this.wake(),
        (err: Error) => this.events.emit('tail.read_failed', { error: err.message }, 'warn'),
      );
    } else this.wake();
  }

  remove(client: TailClient): void {
    client.end();
    this.clients.delete(client);
    this.releases.get(client)?.();
    this.releases.delete(client);
    if (this.clients.size === 0 && this.heartbeat) {
      clearInterval(this.heartbeat);
      this.heartbeat = null;
    }
    if (this.clients.size === 0 && this.poll) {
      clearInterval(this.poll);
      this.poll = null;
    }
    // the next first client starts a feed at its own present
    if (this.clients.size === 0) this.feed = null;
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
    void this.pump()
      .catch((err: Error) => this.events.emit('tail.read_failed', { error: err.message }, 'warn'))
      .finally(() => {
        this.running = false;
      });
  }

  private async pump(): Promise<void> {
    do {
      this.dirty = false;
      if (this.feed) {
        await this.deliverFeed(this.feed);
        continue;
      }
      const upto = await this.logs().maxId();
      await this.deliver([...this.clients], this.lastId, upto);
      this.lastId = Math.max(this.lastId, upto);
    } while (this.dirty && this.clients.size > 0);
  }

  private async deliver(clients: TailClient[], from: number, upto: number): Promise<void> {
    let lo = from;
    while (lo < upto) {
      const rows = await this.reader.next(lo, upto);
      if (rows.length === 0) break;
      const hi = rows[rows.length - 1]!.id;
      await this.offer(clients, rows, (q) => this.logs().matchIds(q, lo, hi));
      lo = hi;
    }
  }

  /** every line the feed has waiting, chunk by chunk, to the clients connected now */
  private async deliverFeed(feed: TailFeed): Promise<void> {
    for (;;) {
      const rows = await this.reader.nextOf(feed);
      if (rows.length === 0 || this.feed !== feed) return;
      await this.offer([...this.clients], rows, (q) => feed.matchIds(q, rows));
    }
  }

  private async offer(clients: TailClient[], rows: LogItem[], match: (q: string) => Promise<Set<number>>): Promise<void> {
    const encoded = new Map<LogItem, Buffer>();
    const encode = (row: LogItem): Buffer => {
      let b = encoded.get(row);
      if (!b) encoded.set(row, (b = encodeEvent(row)));
      return b;
    };
    // one search per chunk, whichever clients ask it
    const searches = new Map<string, Promise<Set<number>>>();
    const once = (q: string) => {
      let s = searches.get(q);
      if (!s) searches.set(q, (s = match(q)));
      return s;
    };
    for (const c of clients) {
      try {
        await c.offer(rows, once, this.regex, encode);
      } catch (err) {
        const e = err instanceof RingtailError ? err : new RingtailError('RINGTAIL_ERR_INTERNAL', (err as Error).message, 500);
        this.events.emit('tail.client_error', { code: e.code, message: e.message }, 'warn');
        c.error(e.code, e.message);
        this.remove(c);
      }
    }
  }
}
