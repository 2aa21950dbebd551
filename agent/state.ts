// The agent's checkpoints: for every file generation (stream) it follows, the byte offset the
// collector has acknowledged, plus the sequence number of the last acknowledged spool record.
// Saved atomically (temp, fsync, rename); advanced only after an acknowledgement. Where a
// stream resumes after a restart is max(acknowledged offset, end of its records still in the
// spool), so a crash with a non-empty spool neither re-reads nor skips a byte.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readFileIfExists, writeFileAtomic } from '../shared/atomic-file.js';
import { ConfigError } from '../shared/errors.js';

export const STATE_VERSION = 2;

export interface FileCheckpoint {
  /** where the file was last seen (a rotated file may have moved) */
  path: string;
  /** the path the stream was first found at; reported as the lines' source */
  source: string;
  dev: number;
  ino: number;
  /** sha256 of the first `fingerprint_len` bytes, to tell a reused inode from the file we knew */
  fingerprint: string;
  fingerprint_len: number;
  /** acknowledged byte offset */
  offset: number;
  /** set when the file was let go: the stream ends here and is forgotten once acknowledged */
  released_end?: number;
}

export interface AgentState {
  version: typeof STATE_VERSION;
  agent_id: string;
  /** spool records up to this sequence number are acknowledged */
  spool_acked_seq: number;
  /** when this state was last saved (ms); files rotated after it may hold lines no run has seen */
  saved_at?: number;
  streams: Record<string, FileCheckpoint>;
}

export function statePath(dir: string): string {
  return join(dir, 'state.json');
}

export function loadState(dir: string): AgentState {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new ConfigError('--state', `cannot create '${dir}': ${(err as NodeJS.ErrnoException).code}`);
  }
  const text = readFileIfExists(statePath(dir));
  if (text === undefined) {
    return { version: STATE_VERSION, agent_id: 'agt_' + randomBytes(8).toString('hex'), spool_acked_seq: 0, streams: {} };
  }
  let parsed: { version?: number } & Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    throw new ConfigError('--state', `'${statePath(dir)}' is not valid JSON; move it away to start over`);
  }
  if (parsed.version === 1) return migrateV1(parsed);
  if (parsed.version !== STATE_VERSION) {
    throw new ConfigError('--state', `'${statePath(dir)}' has version ${String(parsed.version)}, expected ${STATE_VERSION}`);
  }
  return parsed as unknown as AgentState;
}

/** Version 1 (the foundation) had no spool and no source path; its offsets carry over. */
function migrateV1(v1: Record<string, unknown>): AgentState {
  const streams: Record<string, FileCheckpoint> = {};
  for (const [id, cp] of Object.entries((v1.streams ?? {}) as Record<string, Omit<FileCheckpoint, 'source'>>)) {
    streams[id] = { ...cp, source: cp.path };
  }
  return { version: STATE_VERSION, agent_id: String(v1.agent_id), spool_acked_seq: 0, streams };
}

export function saveState(dir: string, state: AgentState): void {
  writeFileAtomic(statePath(dir), JSON.stringify(state));
}
