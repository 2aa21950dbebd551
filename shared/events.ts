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
}

export function createEvents(logger?: EventLogger): EventSink {
  const counts = new Map<string, number>();
  return {
    emit(name, fields = {}, level = 'info') {
      counts.set(name, (counts.get(name) ?? 0) + 1);
      if (!logger || level === 'debug') return;
      logger[level]({ event: name, ...fields }, name);
    },
    add(name, n) {
      counts.set(name, (counts.get(name) ?? 0) + n);
    },
    count(name) {
      return counts.get(name) ?? 0;
    },
    snapshot() {
      return Object.fromEntries(counts);
    },
  };
}
