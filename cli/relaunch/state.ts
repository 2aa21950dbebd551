// The receiver's memory: webhook ids already handled (so a redelivery acts once) and, per
// action, its recent runs and suspension. One JSON file, replaced atomically after every
// accepted delivery and before any command runs. In memory both are Maps: a webhook id or an
// action name is any string, `__proto__` and `constructor` included, and a plain object would
// answer those from its prototype (a first delivery taken for a duplicate). On disk they stay
// JSON objects, as before.
import { join } from 'node:path';
import { readFileIfExists, writeFileAtomic } from '../../shared/atomic-file.js';

export interface ActionState {
  runs: number[];
  suspended_at: number | null;
}

export interface ReceiverState {
  /** webhook id → when it was handled (ms) */
  handled: Map<string, number>;
  actions: Map<string, ActionState>;
}

interface StateFile {
  handled?: Record<string, number>;
  actions?: Record<string, ActionState>;
}

export function stateFile(dir: string): string {
  return join(dir, 'relaunch-state.json');
}

export function loadState(dir: string): ReceiverState {
  const text = readFileIfExists(stateFile(dir));
  if (text === undefined) return { handled: new Map(), actions: new Map() };
  let parsed: StateFile;
  try {
    parsed = JSON.parse(text) as StateFile;
  } catch (err) {
    throw new Error(`${stateFile(dir)} is not valid JSON: ${(err as Error).message}`);
  }
  // JSON.parse makes every key an own property, `__proto__` too; Object.entries sees them all
  return { handled: new Map(Object.entries(parsed.handled ?? {})), actions: new Map(Object.entries(parsed.actions ?? {})) };
}

export function saveState(dir: string, state: ReceiverState): void {
  // Object.fromEntries defines own properties, so `__proto__` is written as a key like any other
  writeFileAtomic(stateFile(dir), JSON.stringify({ handled: Object.fromEntries(state.handled), actions: Object.fromEntries(state.actions) }));
}

/** Ids older than this can no longer verify (their timestamp is out of tolerance), so they can go. */
export function pruneHandled(state: ReceiverState, now: number, keepMs: number): void {
  for (const [id, at] of state.handled) if (at < now - keepMs) state.handled.delete(id);
}
