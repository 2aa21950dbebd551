// Self-metrics as named events: each emit both counts (for /metrics and tests) and logs once,
// so what an operator reads in the log and what a dashboard graphs can never disagree.
export interface EventLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface EventSink {
  emit(name: string, fields?: Record<string, unknown>, level?: 'info' | 'warn' | 'debug'): void;
  add(name: string, n: number): void;
  count(name: string): number;
  snapshot(): Record<string, number>;
  /** observes every emit and add (the collector's /metrics counts them) */
  on(listener: EventListener): void;
}

export type EventListener = (name: string, n: number, fields?: Record<string, unknown>) => void;

export function createEvents(logger?: EventLogger): EventSink {
  const counts = new Map<string, number>();
  const listeners: EventListener[] = [];
  return {
    emit(name, fields = {}, level = 'info') {
      counts.set(name, (counts.get(name) ?? 0) + 1);
      for (const l of listeners) l(name, 1, fields);
      if (!logger || level === 'debug') return;
      logger[level]({ event: name, ...fields }, name);
    },
    add(name, n) {
      counts.set(name, (counts.get(name) ?? 0) + n);
      for (const l of listeners) l(name, n);
    },
    count(name) {
      return counts.get(name) ?? 0;
    },
    snapshot() {
      return Object.fromEntries(counts);
    },
    on(listener) {
      listeners.push(listener);
    },
  };
}
