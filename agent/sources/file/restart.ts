// Where the file source picks up after a restart: streams whose file moved while no agent ran
// (found by inode beside their last path), streams whose file was truncated by copytruncate
// meanwhile (their rest is in a copy with the same first bytes), and whole generations rotated
// away while no agent ran (a crash loop during rotation).
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { COMPRESSED, rotatedSiblings } from './discover.js';
import type { FileSource, Found } from './source.js';
import { closeQuietly, hashOf, openFile, readHead } from './tailed.js';

/**
 * After a restart, streams whose file is no longer behind a glob (rotated away while we were
 * down or before we finished it) are looked for where they were and beside it, by inode.
 */
export function recover(src: FileSource): void {
  const now = src.ctx.clock();
  for (const [stream, cp] of src.ctx.checkpoints.entries()) {
    if (findByInode(src, stream, cp.path, cp.ino, now)) continue;
    // Truncated by copytruncate while we were down: the rest is in a copy with the same first bytes.
    for (const path of rotatedSiblings(cp.source)) {
      const opened = openFile(path);
      if (!opened) continue;
      const { fd, st } = opened;
      const offset = Math.max(cp.offset, src.ctx.spooledEnds.get(stream) ?? 0);
      const same = st.size >= cp.fingerprint_len && cp.fingerprint_len > 0 && hashOf(readHead(fd, cp.fingerprint_len)) === cp.fingerprint;
      if (!same || src.isOpen(st.dev, st.ino)) {
        closeQuietly(fd);
        continue;
      }
      const file = src.track(stream, cp.source, path, st, fd, offset, now, src.ruleFor(cp.source));
      file.detached = true;
      file.copy = true;
      src.ctx.events.emit('file.copy_found', { path, stream, read: offset, size: st.size });
      break;
    }
  }
}

function findByInode(src: FileSource, stream: string, path0: string, ino: number, now: number): boolean {
  const cp = src.ctx.checkpoints.get(stream)!;
  for (const path of [path0, ...inodeNeighbours(path0, ino)]) {
    const opened = openFile(path);
    if (!opened) continue;
    const { fd, st } = opened;
    const resume = src.resumeOffset(stream, fd, st);
    if (resume === undefined || src.isOpen(st.dev, st.ino)) {
      closeQuietly(fd);
      continue;
    }
    const file = src.track(stream, cp.source, path, st, fd, resume, now, src.ruleFor(cp.source));
    file.detached = true;
    src.ctx.events.emit('file.resumed', { path, stream, offset: resume });
    return true;
  }
  return false;
}

/**
 * Generations rotated away while no agent was running (a crash loop during rotation): rotated
 * siblings of the files we follow, written since the previous run last saved its state, and
 * neither a file nor a copy we know. They are read whole, oldest first.
 */
export function adoptUnseenRotations(src: FileSource): void {
  const since = src.ctx.checkpoints.previousSaveAt;
  if (since === undefined) return;
  const now = src.ctx.clock();
  const sources = src.followedSources();
  const fps = new Set(src.ctx.checkpoints.entries().map(([, cp]) => `${cp.fingerprint_len}:${cp.fingerprint}`));
  const found: Array<Found & { fd: number }> = [];
  for (const source of sources) {
    for (const path of rotatedSiblings(source)) {
      const opened = openFile(path);
      if (!opened) continue;
      const { fd, st } = opened;
      const known =
        src.isOpen(st.dev, st.ino) ||
        st.mtimeMs <= since - 2000 ||
        src.ctx.checkpoints.entries().some(([, cp]) => cp.dev === st.dev && cp.ino === st.ino) ||
        [...fps].some((k) => {
          const len = Number(k.split(':')[0]);
          return len > 0 && st.size >= len && `${len}:${hashOf(readHead(fd, len))}` === k;
        });
      if (known) closeQuietly(fd);
      else found.push({ path, rule: src.ruleFor(source), st, fd });
    }
  }
  found.sort((a, b) => a.st.mtimeMs - b.st.mtimeMs);
  for (const f of found) {
    const file = src.newStream(f, f.fd, 0, now);
    file.detached = true;
    src.ctx.events.emit('file.unseen_rotation', { path: f.path, stream: file.stream, size: f.st.size }, 'warn');
  }
}

function inodeNeighbours(path: string, ino: number): string[] {
  const dir = dirname(path);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const n of names) {
    if (COMPRESSED.test(n)) continue;
    const p = join(dir, n);
    if (p === path) continue;
    try {
      if (statSync(p).ino === ino) out.push(p);
    } catch {
      // vanished meanwhile
    }
  }
  return out;
}
