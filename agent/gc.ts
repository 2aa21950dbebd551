// The agent asks V8 for a full garbage collection itself, now and then, to stay under its memory
// target (64 MB RSS, BENCHMARKS.md, logs and agent). V8 runs a full (mark-compact) collection only
// when the old generation reaches a limit that grows with it, or when external memory has grown by
// tens of MB. What the agent leaves for it is small but lingers until then:
// - reading at full speed, the Buffers of each batch's gzip (its zlib stream's output chunks and
//   their concatenation, malloc'ed outside V8's heap) and other short-lived objects that happened
//   to be alive during two young-generation collections are promoted and freed only by a full
//   collection: ~6 MB of the malloc heap over a million lines (peak RSS ~67 → ~62 MB);
// - sampling and shipping metrics every 10 s, each round's promoted garbage fills the old
//   generation up to V8's own limit: its pages grew from ~7.5 to ~14 MB over ten minutes.
// A full collection of the agent's ~10 MB heap takes a few ms: after every GC_LINES lines read
// (about 2 % more CPU at full speed) and at most once a minute otherwise.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** A full collection after this many lines were sealed into batches since the last one (10 full
 * batches). Since the agent parses a line in ~2 µs instead of ~3, it reads faster and its peak
 * was back at 63.2–64.1 MB with 100,000 (`node bench/agent-read.mjs 1000000`, 4 runs); every
 * 50,000 lines: 62.5–63.7 MB for ~0.1 CPU s more per 1 M lines. */
export const GC_LINES = 50_000;
/** And one at least this often. */
export const GC_INTERVAL_MS = 60_000;

let collect: (() => void) | undefined;

/** One full, synchronous garbage collection of this process's heap. */
export function fullGc(): void {
  if (!collect) {
    // --expose-gc set now installs gc() in contexts created from now on, not in this one: a new,
    // otherwise unused context hands it over (~0.15 MB).
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
}

/** When the agent collects: after enough lines, or when the last collection is a while ago. */
export class GcSchedule {
  private lines = 0;
  private last: number;

  constructor(
    private readonly clock: () => number,
    private readonly gc: () => void = fullGc,
  ) {
    this.last = clock();
  }

  /** Lines just sealed into a batch. */
  sealed(lines: number): void {
    this.lines += lines;
    if (this.lines >= GC_LINES) this.run();
  }

  /** Called on a timer: collects when none ran for GC_INTERVAL_MS. */
  tick(): void {
    if (this.clock() - this.last >= GC_INTERVAL_MS) this.run();
  }

  private run(): void {
    this.gc();
    this.lines = 0;
    this.last = this.clock();
  }
}
