// The file source: follows the files the globs name, across rotation and truncation, and turns
// their new bytes into lines. A file is known by device + inode + its first bytes, never by its
// name and never by a watcher's event type: every scan and every read compares the size and the
// head of the file with what we read so far.
//
// - rename + create: the old inode is no longer behind the glob; it is read to its end (its fd
//   stays open), then let go once idle and spooled.
// - copytruncate: the live file shrinks (or starts with other bytes); the rest of the old
//   generation is read from the copy beside it, found by its first bytes, and the live file
//   becomes a new stream read from 0. What the writer appended between logrotate's copy and its
//   truncate is in neither file: copytruncate loses it by design.
// - a new inode whose first bytes equal a followed file's (or, while logrotate still writes it,
//   their start) is held back for a while: it is most likely that file's copytruncate copy,
//   caught between copy and truncate.
import { statSync, type Stats } from 'node:fs';
import type { FSWatcher } from 'chokidar';
import { effectiveSources, type SourceConfig } from '../../config.js';
import type { AgentSource, Budget, PulledSegment, SourceContext, SourceKind } from '../types.js';
import { expandGlobs, rotatedSiblings, watchBases } from './discover.js';
import { compileFilter, compileMultilineStart, type LineFilter } from './filter.js';
import type { RawLine } from './lines.js';
import { MultilineJoiner } from './multiline.js';
import { recover, adoptUnseenRotations } from './restart.js';
import { closeQuietly, fingerprintOf, hashOf, openFile, readHead, TailedFile } from './tailed.js';
import { toWire } from './to-wire.js';
import type { ParserMode } from '../../../shared/logline/index.js';

/** A file no longer behind its glob stays open this long after its last growth. */
export const DETACHED_GRACE_MS = 5_000;
/** How long a likely copytruncate copy is held back before it is taken as a file of its own. */
export const TWIN_GRACE_MS = 5_000;

interface Rule {
  paths: string[];
  filter: LineFilter;
  multiline: { start: RegExp; maxLines: number; timeoutMs: number } | undefined;
  parser: ParserMode;
}

export interface Found {
  path: string;
  rule: number;
  st: Stats;
}

const keyOf = (dev: number, ino: number): string => `${dev}:${ino}`;

export class FileSource implements AgentSource {
  readonly kind = 'file';
  private readonly rules: Rule[];
  private readonly files = new Map<string, TailedFile>();
  private readonly twins = new Map<string, number>();
  private readonly buf: Buffer;
  private readonly maxLine: number;
  private watchers: FSWatcher[] = [];
  private firstStart = false;
  private seq = 0;

  constructor(
    readonly ctx: SourceContext,
    sources: SourceConfig[],
  ) {
    this.rules = sources.map((s, i) => ({
      paths: s.paths,
      filter: compileFilter(s, i),
      multiline: s.multiline
        ? { start: compileMultilineStart(s, i)!, maxLines: s.multiline.max_lines, timeoutMs: s.multiline.timeout_ms }
        : undefined,
      parser: s.parser ?? 'auto',
    }));
    this.maxLine = ctx.config.max_line_bytes;
    // One read buffer for all files: reads are synchronous and their lines are decoded at once.
    // Pulls are small (agent.ts); the buffer only needs to hold the longest line allowed.
    this.buf = Buffer.allocUnsafe(Math.max(Math.min(ctx.config.batch.max_bytes, 64 * 1024), this.maxLine + 1));
  }

  async start(): Promise<void> {
    // First start-up: no state saved by an earlier run (not merely no streams in it).
    this.firstStart = this.ctx.checkpoints.previousSaveAt === undefined;
    recover(this);
    await this.scan();
    if (!this.firstStart) adoptUnseenRotations(this);
    this.firstStart = false;
    this.watchers = watchBases(
      this.rules.flatMap((r) => r.paths),
      () => this.ctx.wake(true),
    );
  }

  async stop(): Promise<void> {
    for (const w of this.watchers) await w.close();
    for (const f of this.files.values()) f.close();
    this.files.clear();
  }

  isOpen(dev: number, ino: number): boolean {
    for (const f of this.files.values()) if (f.open && f.dev === dev && f.ino === ino) return true;
    return false;
  }

  /** Sources of the files followed now (their rotated siblings are where lost generations hide). */
  followedSources(): Set<string> {
    return new Set([...this.files.values()].map((f) => f.source));
  }

  ruleFor(source: string): number {
    // The rule a stream was found by is not stored; the first rule naming its directory is close enough.
    const i = this.rules.findIndex((r) => r.paths.some((p) => source.startsWith(p.split(/[*?[{]/)[0] ?? '')));
    return i >= 0 ? i : 0;
  }

  /** Where a known stream resumes in this fd, or undefined when the fd holds another file. */
  resumeOffset(stream: string, fd: number, st: Stats): number | undefined {
    const cp = this.ctx.checkpoints.get(stream);
    if (!cp || cp.dev !== st.dev || cp.ino !== st.ino) return undefined;
    if (st.size < cp.fingerprint_len || hashOf(readHead(fd, cp.fingerprint_len)) !== cp.fingerprint) return undefined;
    const offset = Math.max(cp.offset, this.ctx.spooledEnds.get(stream) ?? 0);
    return offset <= st.size ? offset : undefined;
  }

  track(stream: string, source: string, path: string, st: Stats, fd: number, offset: number, now: number, rule: number): TailedFile {
    const r = this.rules[rule];
    const joiner = r?.multiline ? new MultilineJoiner({ start: r.multiline.start, maxLines: r.multiline.maxLines, maxBytes: this.maxLine }) : null;
    const fp = fingerprintOf(fd, st.size);
    const file = new TailedFile(stream, source, path, st.dev, st.ino, fd, fp, offset, now, rule, joiner);
    this.files.set(stream, file);
    const cp = this.ctx.checkpoints.get(stream);
    if (cp) {
      this.ctx.checkpoints.update(stream, { path, dev: st.dev, ino: st.ino, released_end: undefined });
      if (fp.length >= cp.fingerprint_len) this.ctx.checkpoints.update(stream, { fingerprint: fp.hash, fingerprint_len: fp.length });
    } else {
      this.ctx.checkpoints.put(stream, { path, source, dev: st.dev, ino: st.ino, fingerprint: fp.hash, fingerprint_len: fp.length, offset });
    }
    return file;
  }

  newStream(found: Found, fd: number, offset: number, now: number): TailedFile {
    const stream = `${found.st.dev}-${found.st.ino}-${now.toString(36)}-${(this.seq++).toString(36)}`;
    const file = this.track(stream, found.path, found.path, found.st, fd, offset, now, found.rule);
    this.ctx.events.emit('file.followed', { path: found.path, stream, offset });
    return file;
  }

  async scan(): Promise<void> {
    const now = this.ctx.clock();
    const found = new Map<string, Found>();
    for (let i = 0; i < this.rules.length; i++) {
      for (const path of await expandGlobs(this.rules[i]!.paths)) {
        let st: Stats;
        try {
          st = statSync(path);
        } catch {
          continue;
        }
        const key = keyOf(st.dev, st.ino);
        if (st.isFile() && !found.has(key)) found.set(key, { path, rule: i, st });
      }
    }
    for (const file of [...this.files.values()]) {
      if (!file.open) continue;
      const key = keyOf(file.dev, file.ino);
      const f = found.get(key);
      if (f) {
        found.delete(key);
        file.path = f.path;
        // Still behind a glob (a renamed generation, or a copytruncate copy when the glob matches
        // the copies): kept open and never let go, since a released file found again would be
        // taken for a new one and read again from 0.
        file.detached = false;
        this.check(file, now);
      } else if (!file.detached) {
        file.detached = true;
        file.lastGrowth = now;
        this.ctx.events.emit('file.detached', { path: file.path, stream: file.stream, read: file.read });
      }
    }
    const open = new Set([...this.files.values()].filter((f) => f.open).map((f) => keyOf(f.dev, f.ino)));
    for (const key of [...this.twins.keys()]) if (!found.has(key)) this.twins.delete(key);
    for (const [key, f] of found) {
      if (open.has(key)) continue;
      const opened = openFile(f.path);
      if (!opened) continue;
      f.st = opened.st;
      const resumed = this.resumeKnown(f, opened.fd, now);
      if (resumed) continue;
      if (this.isTwin(opened.fd, opened.st.size)) {
        const first = this.twins.get(key) ?? now;
        this.twins.set(key, first);
        if (now - first < TWIN_GRACE_MS) {
          closeQuietly(opened.fd);
          continue;
        }
      }
      this.twins.delete(key);
      const offset = this.firstStart && this.ctx.config.start_at === 'end' ? opened.st.size : 0;
      this.newStream(f, opened.fd, offset, now);
    }
  }

  /** A checkpoint for this inode with the same first bytes: the agent knew this file before. */
  private resumeKnown(f: Found, fd: number, now: number): boolean {
    for (const [stream, cp] of this.ctx.checkpoints.entries()) {
      if (cp.dev !== f.st.dev || cp.ino !== f.st.ino || this.files.has(stream)) continue;
      const offset = this.resumeOffset(stream, fd, f.st);
      if (offset === undefined) continue;
      this.track(stream, cp.source, f.path, f.st, fd, offset, now, f.rule);
      this.ctx.events.emit('file.resumed', { path: f.path, stream, offset });
      return true;
    }
    return false;
  }

  /**
   * Its first bytes are a followed file's: most likely that file's copytruncate copy. A copy that
   * logrotate is still writing (created empty, then filled) is shorter than the fingerprint;
   * what it holds so far is then the fingerprint's start. Taken for a new file, it would be read
   * again from 0 (a new empty file elsewhere is only looked at again on the next scan).
   */
  private isTwin(fd: number, size: number): boolean {
    for (const file of this.files.values()) {
      if (!file.open || file.detached || file.copy || file.fp.length === 0) continue;
      const n = Math.min(size, file.fp.length);
      if (readHead(fd, n).equals(file.fp.head.subarray(0, n))) return true;
    }
    return false;
  }

  /**
   * Compares the file with what we read from it. Shrunk below our offset, or grown with other
   * first bytes: it was truncated (and perhaps rewritten) and starts over.
   */
  private check(file: TailedFile, now: number): boolean {
    if (!file.open || file.detached || file.copy) return true;
    const size = file.size();
    if (size < file.read || (size !== file.read && !file.sameHead())) {
      this.truncated(file, now);
      return false;
    }
    return true;
  }

  private truncated(file: TailedFile, now: number): void {
    const path = file.path;
    this.ctx.events.emit('file.truncated', { path, stream: file.stream, read: file.read }, 'warn');
    const copy = this.findCopy(file);
    if (copy) {
      file.moveTo(copy.path, copy.fd, copy.st.dev, copy.st.ino);
      file.detached = true;
      file.copy = true;
      file.lastGrowth = now;
      this.ctx.checkpoints.update(file.stream, { path: copy.path, dev: copy.st.dev, ino: copy.st.ino });
      this.ctx.events.emit('file.copy_found', { path: copy.path, stream: file.stream, read: file.read, size: copy.st.size });
    } else {
      // No copy on disk (truncated in place, or the copy is already compressed): the stream ends.
      file.close();
      this.ctx.events.emit('file.copy_missing', { path, stream: file.stream, read: file.read }, 'warn');
    }
    const opened = openFile(path);
    if (opened) this.newStream({ path, rule: file.rule, st: opened.st }, opened.fd, 0, now);
  }

  private findCopy(file: TailedFile): { path: string; fd: number; st: Stats } | null {
    if (file.fp.length === 0) return null;
    const open = new Set([...this.files.values()].filter((f) => f.open).map((f) => keyOf(f.dev, f.ino)));
    let best: { path: string; fd: number; st: Stats } | null = null;
    for (const path of rotatedSiblings(file.path)) {
      const opened = openFile(path);
      if (!opened) continue;
      const { fd, st } = opened;
      const ok = !open.has(keyOf(st.dev, st.ino)) && st.size >= file.fp.length && readHead(fd, file.fp.length).equals(file.fp.head);
      if (ok && (!best || st.mtimeMs > best.st.mtimeMs)) {
        if (best) closeQuietly(best.fd);
        best = { path, fd, st };
      } else {
        closeQuietly(fd);
      }
    }
    return best;
  }

  pull(budget: Budget, out: PulledSegment[]): void {
    const now = this.ctx.clock();
    for (const file of [...this.files.values()]) {
      if (budget.lines <= 0 || budget.bytes <= 0) break;
      if (!this.check(file, now)) continue;
      const raw: RawLine[] = [];
      let consumed = 0;
      let final: boolean;
      if (file.open) {
        const size = file.size();
        if (file.widenFingerprint(size)) {
          this.ctx.checkpoints.update(file.stream, { fingerprint: file.fp.hash, fingerprint_len: file.fp.length });
        }
        // A copy's content is final: its last line is complete even without a newline.
        final = (file.detached || file.copy) && now - file.lastGrowth > DETACHED_GRACE_MS;
        // Only what the budget asks for is read and decoded; a line longer than that (up to the
        // longest allowed) is read again with the whole buffer.
        const small = Math.min(this.buf.length, budget.bytes);
        consumed = file.readLines(this.buf.subarray(0, small), size, this.maxLine, final, raw, budget.lines);
        if (consumed === 0 && size - file.read > small) {
          consumed = file.readLines(this.buf, size, this.maxLine, final, raw, budget.lines);
        }
        if (consumed > 0) file.lastGrowth = now;
      } else {
        final = true;
      }
      let events = raw;
      let emittedEnd = file.read;
      if (file.joiner) {
        events = [];
        file.joiner.push(raw, events);
        const timeout = this.rules[file.rule]?.multiline?.timeoutMs ?? 0;
        if (final || now - file.lastGrowth >= timeout) file.joiner.flush(events);
        emittedEnd = file.joiner.pendingOffset ?? file.read;
      }
      budget.bytes -= consumed;
      budget.lines -= events.length;
      if (emittedEnd > file.emitted || events.length > 0) out.push(this.segment(file, events, emittedEnd, now));
      if (final && (file.detached || !file.open)) this.releaseIfDone(file);
    }
  }

  private segment(file: TailedFile, events: RawLine[], end: number, now: number): PulledSegment {
    const rule = this.rules[file.rule]!;
    const c = toWire(events, rule.filter, now, this.ctx.config.time_zone, rule.parser);
    this.ctx.events.add('lines.read', events.length);
    // Fields dropped or cut by the bounds (shared/logline/fields.ts): in agent.stats; each line says how many too.
    if (c.fieldsTruncated) this.ctx.events.add('lines.fields_truncated', c.fieldsTruncated);
    if (c.filtered) this.ctx.events.add('lines.filtered', c.filtered);
    if (c.truncated) this.ctx.events.add('lines.truncated', c.truncated);
    const seg: PulledSegment = { stream: file.stream, source: file.source, start: file.emitted, end, lines: c.lines, bytes: c.bytes };
    file.emitted = end;
    return seg;
  }

  /** A finished file (detached and idle, or ended by truncation) is let go once all of it is spooled. */
  private releaseIfDone(file: TailedFile): void {
    if (file.open && file.size() > file.read) return;
    if (file.joiner?.pendingOffset !== undefined || file.emitted !== file.read && file.open) return;
    if (file.spooled < file.emitted) return;
    file.close();
    this.files.delete(file.stream);
    this.ctx.checkpoints.release(file.stream, file.emitted);
    this.ctx.events.emit('file.released', { path: file.path, stream: file.stream, offset: file.emitted });
  }

  spooled(stream: string, end: number): void {
    const file = this.files.get(stream);
    if (file && end > file.spooled) file.spooled = end;
  }

  nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const f of this.files.values()) {
      let t: number | undefined;
      if (f.detached || !f.open) t = f.lastGrowth + DETACHED_GRACE_MS + 1;
      const timeout = this.rules[f.rule]?.multiline?.timeoutMs;
      if (f.joiner?.pendingOffset !== undefined && timeout !== undefined) t = Math.min(t ?? Infinity, f.lastGrowth + timeout);
      if (t !== undefined && (next === undefined || t < next)) next = t;
    }
    return next;
  }

  stats(): Record<string, number> {
    let backlog = 0;
    let open = 0;
    for (const f of this.files.values()) {
      if (!f.open) continue;
      open++;
      try {
        backlog += Math.max(0, f.size() - f.emitted);
      } catch {
        // closed meanwhile
      }
    }
    return { files: open, unread_bytes: backlog };
  }
}

export const fileSourceKind: SourceKind = {
  kind: 'file',
  create(ctx) {
    const sources = effectiveSources(ctx.config);
    return sources.length > 0 ? [new FileSource(ctx, sources)] : [];
  },
};
