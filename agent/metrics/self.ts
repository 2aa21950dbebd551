// The agent's own figures as metrics: whatever its stats or event sink count (lines read,
// shipped, filtered, failures …) plus its CPU and memory. Events are cumulative counts, so they travel as
// DERIVE; a figure that is a level rather than a count (spool bytes, shipping lag, age of the
// last acknowledgement) is recognised by its unit suffix and travels as GAUGE.
import { derive, gauge, type MetricSource, type Sample } from './types.js';

/** Snapshot names ending like this are levels, not counts. */
const GAUGE_SUFFIX = /(?:[._](?:bytes|ms|seconds|s|lag|age|pending|queued|records|files|gauge))$/;

export function selfMetricName(event: string): string | null {
  const name = 'agent.' + event.toLowerCase().replace(/[^a-z0-9_.]/g, '_').replace(/\.{2,}/g, '.').replace(/^\.|\.$/g, '');
  return /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/.test(name) && name.length <= 128 ? name : null;
}

export function selfSamples(snapshot: Record<string, number>): Sample[] {
  const out: Sample[] = [];
  for (const [event, value] of Object.entries(snapshot)) {
    const name = selfMetricName(event);
    if (!name || !Number.isFinite(value)) continue;
    const isGauge = GAUGE_SUFFIX.test(event);
    // A negative level (age of an acknowledgement that never came: -1) is unknown, not a value.
    if (isGauge && value < 0) continue;
    out.push(isGauge ? gauge(name, value) : derive(name, Math.round(value)));
  }
  return out;
}

export function selfFamily(snapshot: () => Record<string, number> = () => ({})): MetricSource {
  let prevCpu = process.cpuUsage();
  let prevAt = 0;
  return {
    name: 'self',
    collect(): Sample[] {
      // Real CPU time over real elapsed time: the runner's (injectable) clock has no say here.
      const now = performance.now();
      const cpu = process.cpuUsage();
      const out = selfSamples(snapshot());
      out.push(gauge('agent.rss_bytes', process.memoryUsage.rss()));
      if (prevAt > 0 && now > prevAt) {
        const usedUs = cpu.user - prevCpu.user + (cpu.system - prevCpu.system);
        out.push(gauge('agent.cpu_pct', Math.round((usedUs / 1000 / (now - prevAt)) * 100_000) / 1000));
      }
      prevCpu = cpu;
      prevAt = now;
      return out;
    },
  };
}
