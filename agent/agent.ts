// The agent's main loop: discover files, read whole new lines, ship them as one batch, and
// advance the checkpoints only when the collector has acknowledged the batch. One batch is in
// flight at a time, which bounds memory whatever the backlog.
import { statSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import type { FSWatcher } from 'chokidar';
import { createEvents, type EventSink } from '../shared/events.js';
import type { Logger } from '../shared/logger.js';
import { parseLine } from '../shared/logline/index.js';
import { WIRE_VERSION, type IngestBatch, type WireSegment } from '../shared/wire.js';
import type { AgentConfig } from './config.js';
import { expandGlobs, watchBases } from './discover.js';
import { backoffMs, ShipError, shipBatch } from './ship.js';
import { loadState, saveState, type AgentState } from './state.js';
import { TailedFile } from './tail.js';

/** How long a detached (rotated away or deleted) file stays open after its last growth. */
const DETACHED_GRACE_MS = 5_000;

export interface AgentDeps {
  log: Logger;
  clock?: () => number;
}

export class Agent {
  readonly events: EventSink;
  private readonly clock: () => number;
  private state!: AgentState;
  private firstStart = false;
  private readonly files = new Map<string, TailedFile>();
  private watcher: FSWatcher | null = null;
  private running = false;
  private wake: (() => void) | null = null;
  private loopDone: Promise<void> | null = null;

  constructor(
    private readonly config: AgentConfig,
    private readonly deps: AgentDeps,
  ) {
    this.clock = deps.clock ?? Date.now;
    this.events = createEvents(deps.log);
  }

  async start(): Promise<void> {
    this.state = loadState(this.config.state);
    this.firstStart = Object.keys(this.state.streams).length === 0;
    // The agent id and every stream id must be on disk before a batch that carries them is
    // sent: if we die after the collector commits but before our next save, the restarted
    // agent must present the same identities so the collector can drop the overlap.
    saveState(this.config.state, this.state);
    this.running = true;
    await this.scan();
    this.firstStart = false;
    this.watcher = watchBases(this.config.watch, () => this.poke());
    this.loopDone = this.loop();
    this.deps.log.info({ agent_id: this.state.agent_id, files: this.files.size }, 'agent started');
  }

  async stop(): Promise<void> {
    this.running = false;
    this.poke();
    await this.watcher?.close();
    await this.loopDone;
    for (const f of this.files.values()) f.close();
    this.files.clear();
  }

  private poke(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  /** Matches the files on disk with what we follow, by device and inode, never by name alone. */
  async scan(): Promise<void> {
    const now = this.clock();
    const paths = await expandGlobs(this.config.watch);
    const seen = new Set<string>();
    let followed = false;
    const byInode = new Map<string, TailedFile>();
    for (const f of this.files.values()) if (!f.detached) byInode.set(`${f.dev}:${f.ino}`, f);

    for (const path of paths) {
      let st;
      try {
        st = statSync(path);
      } catch {
        continue;
      }
      const key = `${st.dev}:${st.ino}`;
      seen.add(key);
      const known = byInode.get(key);
      if (known) {
        known.path = path;
        const cur = known.stat();
        if (cur && cur.size < known.readTo) this.truncated(known, now);
        continue;
      }
      followed = this.follow(path, now) || followed;
    }
    for (const f of this.files.values()) {
      if (!f.detached && !seen.has(`${f.dev}:${f.ino}`)) {
        f.detached = true;
        this.events.emit('file.detached', { path: f.path, stream: f.stream });
      }
    }
    if (followed) saveState(this.config.state, this.state);
  }

  private follow(path: string, now: number): boolean {
    const opened = TailedFile.open(path);
    if (!opened) return false;
    const { fd, st } = opened;
    let offset = 0;
    let stream: string | undefined;
    for (const [id, cp] of Object.entries(this.state.streams)) {
      if (cp.dev !== st.dev || cp.ino !== st.ino || cp.offset > st.size) continue;
      const probe = new TailedFile(id, path, st.dev, st.ino, fd, 0, now).fingerprint(cp.fingerprint_len);
      if (probe.fingerprint === cp.fingerprint) {
        stream = id;
        offset = cp.offset;
        break;
      }
    }
    if (!stream) {
      stream = `${st.dev}:${st.ino}:${now.toString(36)}`;
      if (this.firstStart && this.config.start_at === 'end') offset = st.size;
    }
    const file = new TailedFile(stream, path, st.dev, st.ino, fd, offset, now);
    this.files.set(stream, file);
    this.checkpoint(file);
    this.events.emit('file.followed', { path, stream, offset });
    return true;
  }

  /** copytruncate or `> file`: the inode is the same but its content started over. */
  private truncated(file: TailedFile, now: number): void {
    this.events.emit('file.truncated', { path: file.path, stream: file.stream, at: file.readTo }, 'warn');
    this.files.delete(file.stream);
    delete this.state.streams[file.stream];
    file.close();
    this.follow(file.path, now + 1);
    saveState(this.config.state, this.state);
  }

  private checkpoint(file: TailedFile): void {
    const st = file.stat();
    const fp = file.fingerprint(Math.min(st?.size ?? 0, Math.max(file.acked, 1)));
    this.state.streams[file.stream] = {
      path: file.path,
      dev: file.dev,
      ino: file.ino,
      fingerprint: fp.fingerprint,
      fingerprint_len: fp.length,
      offset: file.acked,
    };
  }

  private collect(): IngestBatch | null {
    const { max_lines, max_bytes } = this.config.batch;
    const now = this.clock();
    const segments: WireSegment[] = [];
    let lines = 0;
    let bytes = 0;
    for (const file of this.files.values()) {
      if (lines >= max_lines || bytes >= max_bytes) break;
      const start = file.readTo;
      const idle = file.detached && now - file.lastGrowth > DETACHED_GRACE_MS;
      const raw = file.readLines(max_bytes - bytes, this.config.max_line_bytes, idle);
      if (raw.length === 0) continue;
      file.lastGrowth = now;
      segments.push({
        stream: file.stream,
        source: file.path,
        start,
        end: file.readTo,
        lines: raw.map((r) => {
          const p = parseLine(r.text, { now });
          return {
            offset: r.offset,
            ts: p.ts,
            severity: p.severity,
            message: p.message,
            ...(p.program !== undefined ? { program: p.program } : {}),
            ...(p.pid !== undefined ? { pid: p.pid } : {}),
            ...(p.facility !== undefined ? { facility: p.facility } : {}),
            ...(p.fields !== undefined ? { fields: p.fields } : {}),
            ...(r.truncated ? { truncated: true } : {}),
          };
        }),
      });
      lines += raw.length;
      bytes += file.readTo - start;
    }
    if (segments.length === 0) return null;
    return { version: WIRE_VERSION, agent_id: this.state.agent_id, host: this.config.host, segments };
  }

  /** Detached files that are read to the end and have been idle long enough are let go. */
  private release(): void {
    const now = this.clock();
    let changed = false;
    for (const f of [...this.files.values()]) {
      const st = f.stat();
      if (!f.detached || !st || f.acked < st.size || now - f.lastGrowth <= DETACHED_GRACE_MS) continue;
      f.close();
      this.files.delete(f.stream);
      delete this.state.streams[f.stream];
      changed = true;
      this.events.emit('file.released', { path: f.path, stream: f.stream, offset: f.acked });
    }
    if (changed) saveState(this.config.state, this.state);
  }

  private async loop(): Promise<void> {
    let lastScan = this.clock();
    while (this.running) {
      if (this.clock() - lastScan >= this.config.scan_interval_ms) {
        await this.scan();
        lastScan = this.clock();
      }
      const batch = this.collect();
      if (!batch) {
        this.release();
        await this.sleep(this.config.scan_interval_ms);
        continue;
      }
      const lines = batch.segments.reduce((n, s) => n + s.lines.length, 0);
      if (lines < this.config.batch.max_lines && this.config.batch.linger_ms > 0) {
        // Give a burst a moment to fill the batch; then take what arrived meanwhile as a second batch.
        await this.sleep(this.config.batch.linger_ms);
      }
      await this.deliver(batch);
    }
  }

  private async deliver(batch: IngestBatch): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        const ack = await shipBatch(this.config.collector, this.config.token, batch);
        for (const seg of batch.segments) {
          const file = this.files.get(seg.stream);
          if (!file) continue;
          file.acked = seg.end;
          this.checkpoint(file);
        }
        saveState(this.config.state, this.state);
        this.events.add('lines.shipped', ack.accepted);
        return;
      } catch (err) {
        const permanent = err instanceof ShipError && err.permanent;
        this.events.emit('ship.failed', { attempt, permanent, error: (err as Error).message }, 'warn');
        if (!this.running) {
          for (const seg of batch.segments) this.files.get(seg.stream)?.rewind();
          return;
        }
        const until = this.clock() + backoffMs(attempt);
        while (this.running && this.clock() < until) await delay(Math.min(100, until - this.clock()));
        if (!this.running) {
          for (const seg of batch.segments) this.files.get(seg.stream)?.rewind();
          return;
        }
      }
    }
  }
}
