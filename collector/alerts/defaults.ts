// The rules every collector starts with (`alerts.defaults: false` turns them off), with levels,
// hysteresis and durations taken from the anchors: Netdata's health.d (disks, ram, swap, cpu,
// load) and the node_exporter mixin (docs/alerts.md has the table with each rule's source).
// Like Netdata's `to: silent`, most are shown but not sent (`notify: false`); a host down, a full
// disk, memory running out and a failed check are sent. Windowed rules ask for a covered window
// (`min_coverage`), so the busy first minutes of a freshly started agent never raise anything.
import { compileRule, type AlertRule, type CompiledRule } from './rules.js';

const summary = (text: string) => ({ summary: text });

export const DEFAULT_RULES: AlertRule[] = [
  // Host lifecycle
  {
    kind: 'absence', name: 'host-down', seconds: 120, severity: 'critical', permanent_only: true,
    annotations: summary('{{ $labels.host }} sent nothing for {{ $value }} s'),
  },
  {
    kind: 'flapping', name: 'host-flapping', min_count: 3, window: '30m', severity: 'warning', permanent_only: true, notify: false,
    annotations: summary('{{ $labels.host }} went down {{ $value }} times in 30 minutes'),
  },
  // Disks (per mount)
  {
    kind: 'metric', name: 'disk-space', metric: 'df.used_pct', op: 'above', window: '1m', for: '1m',
    warning: 90, warning_clear: 80, critical: 98, critical_clear: 90, notify: 'critical',
    annotations: summary('{{ $labels.host }} {{ $labels.mount }}: {{ $value }}% of the space used'),
  },
  {
    kind: 'metric', name: 'disk-inodes', metric: 'df.inodes_used_pct', op: 'above', window: '1m', for: '1m',
    warning: 90, warning_clear: 80, critical: 98, critical_clear: 90, notify: 'critical',
    annotations: summary('{{ $labels.host }} {{ $labels.mount }}: {{ $value }}% of the inodes used'),
  },
  {
    kind: 'metric', name: 'disk-fill', metric: 'df.used_pct', op: 'below', window: '1h', for: '10m',
    predict: { reach: 100, warning_from: 60, critical_from: 80 },
    warning: 8, warning_clear: 48, critical: 2, critical_clear: 24, notify: 'critical',
    annotations: summary('{{ $labels.host }} {{ $labels.mount }} will be full in {{ $value }} h at the last hour\'s rate'),
  },
  // Memory
  {
    kind: 'metric', name: 'memory-available', metric: 'memory.available', divide_by: 'memory.total', scale: 100, op: 'below',
    window: '1m', for: '5m', warning: 10, warning_clear: 15, critical: 5, critical_clear: 10, notify: 'critical',
    annotations: summary('{{ $labels.host }}: {{ $value }}% of the memory available'),
  },
  {
    kind: 'metric', name: 'swap-used', metric: 'memory.swap_used', divide_by: 'memory.swap_total', scale: 100, op: 'above',
    window: '1m', for: '30s', warning: 90, warning_clear: 80, critical: 98, critical_clear: 90, notify: 'critical',
    annotations: summary('{{ $labels.host }}: {{ $value }}% of the swap used'),
  },
  // CPU and load
  {
    kind: 'metric', name: 'cpu-busy', metric: 'cpu.idle', scale: -1, offset: 100, op: 'above', window: '10m', min_coverage: 0.9,
    warning: 85, warning_clear: 75, critical: 95, critical_clear: 85, notify: false,
    annotations: summary('{{ $labels.host }}: CPU {{ $value }}% busy over 10 minutes'),
  },
  {
    kind: 'metric', name: 'cpu-iowait', metric: 'cpu.iowait', op: 'above', window: '10m', min_coverage: 0.9,
    warning: 40, warning_clear: 20, notify: false,
    annotations: summary('{{ $labels.host }}: {{ $value }}% of CPU time waiting for I/O over 10 minutes'),
  },
  {
    kind: 'metric', name: 'cpu-steal', metric: 'cpu.steal', op: 'above', window: '20m', min_coverage: 0.9,
    warning: 10, warning_clear: 5, notify: false,
    annotations: summary('{{ $labels.host }}: {{ $value }}% of CPU time stolen by the hypervisor over 20 minutes'),
  },
  {
    // "for 15 minutes" as the lowest value of a covered 15-minute window: nothing pends meanwhile
    kind: 'metric', name: 'load-per-core', metric: 'load.15', divide_by: 'load.cores', cf: 'MIN', op: 'above', window: '15m', min_coverage: 0.9,
    warning: 2, warning_clear: 1.75, notify: false,
    annotations: summary('{{ $labels.host }}: 15-minute load {{ $value }} per core'),
  },
  {
    kind: 'metric', name: 'fds-used', metric: 'fds.open', divide_by: 'fds.max', scale: 100, op: 'above', window: '1m', for: '15m',
    warning: 90, notify: false,
    annotations: summary('{{ $labels.host }}: {{ $value }}% of the file descriptors open'),
  },
  // The agent itself
  {
    kind: 'metric', name: 'agent-spool', metric: 'agent.spool_bytes', divide_by: 'agent.spool_max_bytes', scale: 100, op: 'above',
    window: '1m', for: '1m', warning: 50, notify: false,
    annotations: summary('{{ $labels.host }}: the agent\'s spool is {{ $value }}% full'),
  },
  {
    kind: 'metric', name: 'agent-lag', metric: 'agent.lag_ms', cf: 'MIN', op: 'above', window: '1m', scale: 0.001,
    warning: 300, notify: false,
    annotations: summary('{{ $labels.host }}: lines wait {{ $value }} s to be shipped'),
  },
  {
    kind: 'metric', name: 'agent-lines-dropped', metric: 'agent.lines_dropped', cf: 'MAX', op: 'above', window: '10m',
    warning: 0, notify: false,
    annotations: summary('{{ $labels.host }}: the agent dropped lines (a full spool with when_full: drop_oldest)'),
  },
  // Checks declared on the agents: one alert per check
  {
    kind: 'check', name: 'process-down', check: '*', check_types: ['process'], severity: 'critical',
    annotations: summary('{{ $labels.host }}: no process for check {{ $labels.check }}'),
  },
  {
    kind: 'check', name: 'check-down', check: '*', check_types: ['http', 'tcp'], samples: 2, severity: 'critical',
    annotations: summary('{{ $labels.host }}: check {{ $labels.check }} down twice in a row'),
  },
];

export const DEFAULT_RULE_NAMES = new Set(DEFAULT_RULES.map((r) => r.name));

export function compileDefaultRules(): CompiledRule[] {
  return DEFAULT_RULES.map((r) => compileRule(r, `default rule '${r.name}'`, 'default'));
}
