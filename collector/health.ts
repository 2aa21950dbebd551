// What /healthz answers beyond "the event loop runs": the parts a collector cannot work without
// and cannot restart in place. A storage thread that died (an out-of-memory abort, a native
// fault) left the collector up and answering every ingest request with an error until someone
// restarted it by hand; a part that fails is now said once (an error event), /healthz turns 503,
// and the server entry exits non-zero so its supervisor starts it again. Nothing acknowledged is
// lost by that: acknowledgements follow commits, and the agents resend what was not acknowledged.
import type { EventSink } from '../shared/events.js';

export interface PartFailure {
  part: string;
  error: string;
}

export class Health {
  private readonly failures: PartFailure[] = [];
  private readonly listeners: Array<(f: PartFailure) => void> = [];

  constructor(private readonly events: EventSink) {}

  /** A part stopped for good; the first failure of each part is kept and said. */
  fail(part: string, err: Error): void {
    if (this.failures.some((f) => f.part === part)) return;
    const f: PartFailure = { part, error: err.message };
    this.failures.push(f);
    this.events.emit('collector.part_failed', { code: 'RINGTAIL_ERR_PART_FAILED', part, error: err.message }, 'warn');
    for (const l of this.listeners) l(f);
  }

  get failed(): readonly PartFailure[] {
    return this.failures;
  }

  /** Resolves with the first failure (at once if there already is one). */
  untilFailure(): Promise<PartFailure> {
    const first = this.failures[0];
    if (first) return Promise.resolve(first);
    return new Promise((resolve) => this.listeners.push(resolve));
  }
}
