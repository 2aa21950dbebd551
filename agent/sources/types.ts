// The contract every agent source implements, and what the agent hands it. A source turns
// something on the host into segments of wire lines; the agent batches them into the disk spool
// and ships them. Sources are pulled, never pushing, so a full spool simply stops reading.
import type { EventSink } from '../../shared/events.js';
import type { Logger } from '../../shared/logger.js';
import type { WireLine } from '../../shared/wire.js';
import type { AgentConfig } from '../config.js';
import type { Checkpoints } from '../checkpoints.js';

/** One contiguous byte range [start, end) of one stream and the lines it yielded (filtered lines are not listed). */
export interface PulledSegment {
  stream: string;
  source: string;
  start: number;
  end: number;
  lines: WireLine[];
  /** bytes of line text, for batch sizing */
  bytes: number;
}

export interface Budget {
  lines: number;
  bytes: number;
}

export interface SourceContext {
  config: AgentConfig;
  events: EventSink;
  log: Logger;
  clock: () => number;
  checkpoints: Checkpoints;
  /** end offset of each stream's records still waiting in the spool (after a restart) */
  spooledEnds: ReadonlyMap<string, number>;
  /** something may have changed: pull (and scan) soon */
  wake(scan: boolean): void;
}

export interface AgentSource {
  readonly kind: string;
  /** first discovery; streams found are registered in the checkpoints */
  start(): Promise<void>;
  /** re-discovery: new, rotated, truncated and vanished inputs */
  scan(): Promise<void>;
  /** reads what is available within the budget into `out` */
  pull(budget: Budget, out: PulledSegment[]): void;
  /** these ranges are now durable in the spool */
  spooled(stream: string, end: number): void;
  /** the earliest moment a held partial event must be flushed, if any */
  nextDeadline(): number | undefined;
  /** gauges for the periodic self-metrics */
  stats(): Record<string, number>;
  stop(): Promise<void>;
}

export interface SourceKind {
  readonly kind: string;
  /** the sources of this kind the configuration asks for (none is fine) */
  create(ctx: SourceContext): AgentSource[];
}
