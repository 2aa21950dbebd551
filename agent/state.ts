// The agent's checkpoints: for every file generation it follows, the byte offset the collector
// has acknowledged. Saved atomically after each acknowledgement, so a restart (even after
// SIGKILL) resumes at the last acknowledged byte and the collector drops any overlap.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readFileIfExists, writeFileAtomic } from '../shared/atomic-file.js';
import { ConfigError } from '../shared/errors.js';

export const STATE_VERSION = 1;

export interface FileCheckpoint {
  path: string;
  dev: number;
  ino: number;
  /** sha256 of the first bytes, to tell a reused inode from the file we knew */
  fingerprint: string;
  fingerprint_len: number;
  /** acknowledged byte offset */
  offset: number;
}

export interface AgentState {
  version: typeof STATE_VERSION;
  agent_id: string;
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
    return { version: STATE_VERSION, agent_id: 'agt_' + randomBytes(8).toString('hex'), streams: {} };
  }
  let parsed: AgentState;
  try {
    parsed = JSON.parse(text) as AgentState;
  } catch {
    throw new ConfigError('--state', `'${statePath(dir)}' is not valid JSON; move it away to start over`);
  }
  if (parsed.version !== STATE_VERSION) {
    throw new ConfigError('--state', `'${statePath(dir)}' has version ${parsed.version}, expected ${STATE_VERSION}`);
  }
  return parsed;
}

export function saveState(dir: string, state: AgentState): void {
  writeFileAtomic(statePath(dir), JSON.stringify(state));
}
