// The receiver's memory: webhook ids already handled (so a redelivery acts once) and, per
// action, its recent runs and suspension. One JSON file, replaced atomically after every
// accepted delivery and before any command runs.
import { join } from 'node:path';
import { readFileIfExists, writeFileAtomic } from '../../shared/atomic-file.js';

export interface ActionState {
  runs: number[];
  suspended_at: number | null;
}

export interface ReceiverState {
  handled: Record<string, number>;
  actions: Record<string, ActionState>;
}

export function stateFile(dir: string): string {
  return join(dir, 'relaunch-state.json');
}

export function loadState(dir: string): ReceiverState {
  const text = readFileIfExists(stateFile(dir));
  if (text === undefined) return { handled: {}, actions: {} };
  let parsed: Partial<ReceiverState>;
  try {
    parsed = JSON.parse(text) as Partial<ReceiverState>;
  } catch (err) {
    throw new Error(`${stateFile(dir)} is not valid JSON: ${(err as Error).message}`);
  }
  return { handled: parsed.handled ?? {}, actions: parsed.actions ?? {} };
}

export function saveState(dir: string, state: ReceiverState): void {
  writeFileAtomic(stateFile(dir), JSON.stringify(state));
}

/** Ids older than this can no longer verify (their timestamp is out of tolerance), so they can go. */
export function pruneHandled(state: ReceiverState, now: number, keepMs: number): void {
  for (const [id, at] of Object.entries(state.handled)) if (at < now - keepMs) delete state.handled[id];
}
