// The one registration point of metric families: adding a family is a module in this folder and
// a line here (and its name in FAMILY_NAMES of ./config.ts).
import { cpuFamily } from './cpu.js';
import { diskIoFamily } from './disk-io.js';
import { diskSpaceFamily } from './disk-space.js';
import { loadFamily } from './load.js';
import { memoryFamily } from './memory.js';
import { networkFamily } from './network.js';
import { processesFamily } from './processes.js';
import { selfFamily } from './self.js';
import type { FamilyName } from './config.js';
import type { MetricSource } from './types.js';

export interface FamilyDeps {
  /** the agent's self-metrics (its event counts and levels) */
  snapshot?: () => Record<string, number>;
}

export const FAMILIES: Record<FamilyName, (deps: FamilyDeps) => MetricSource> = {
  cpu: () => cpuFamily(),
  memory: () => memoryFamily(),
  load: () => loadFamily(),
  'disk-space': () => diskSpaceFamily(),
  'disk-io': () => diskIoFamily(),
  network: () => networkFamily(),
  processes: () => processesFamily(),
  self: (deps) => selfFamily(deps.snapshot),
};

export function createFamilies(names: readonly FamilyName[], deps: FamilyDeps = {}): MetricSource[] {
  return [...new Set(names)].map((n) => FAMILIES[n](deps));
}
