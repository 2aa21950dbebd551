// Evidence for a firing alert: what a receiver (a person, `ringtail relaunch`) needs to decide
// what to do without opening the dashboard first. Gathered when the notification is queued, so
// it shows that moment, and stored in the outbox row's body, so a retry sends the same evidence
// and the signature covers it. Everything here is bounded: a notification body must stay small
// whatever the host logged. Log text is data: it is copied as JSON strings, never interpreted.
import { cutUtf8 } from '../../shared/logline/fields.js';
import type { LogFilter } from '../storage/types.js';
import type { LogItem } from '../../shared/wire.js';
import { metricKey, parseMetricKey } from '../metrics/key.js';
import { CHECK_SERIES } from './metric-sources.js';
import type { CompiledRule } from './rules.js';
import type { AlertSources } from './sources.js';

/** The host's last lines at warning or worse: at most this many … */
export const EVIDENCE_MAX_LINES = 20;
/** … and this many bytes of message text in all (UTF-8) … */
export const EVIDENCE_MAX_BYTES = 8 * 1024;
/** … each message cut to this many bytes (marked `truncated`) so one huge line cannot crowd out the rest. */
export const EVIDENCE_MAX_LINE_BYTES = 1024;
/** the newest points of the rule's window, at most */
export const EVIDENCE_MAX_POINTS = 120;
/**
 * Lines older than this are not looked at: the host's (host, ts) index is walked backwards and
 * filtered by severity, so a host logging only info lines costs a scan of this much of its log
 * (measured: 300,000 info lines of one host, none at warning, 150 ms; about 0.5 µs a line).
 */
export const EVIDENCE_LOOKBACK_MS = 15 * 60_000;
/** syslog severity 4: warning, and 0–3 (error … emergency) */
export const EVIDENCE_SEVERITY = 4;
/** the dashboard link shows this long before the alert time and this long after */
const LINK_BEFORE_MS = 30 * 60_000;
const LINK_AFTER_MS = 5 * 60_000;

const LEVELS = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'] as const;

export interface EvidenceLine {
  /** ms since epoch */
  ts: number;
  severity: number;
  level: string;
  source: string;
  program: string | null;
  message: string;
  /** the message was cut to EVIDENCE_MAX_LINE_BYTES; `bytes` is its whole length */
  truncated?: true;
  bytes?: number;
}

export interface Evidence {
  /** when it was gathered (ms since epoch) */
  at: number;
  host: string;
  /** the dashboard's host view around `at`; null without alerts.external_url */
  dashboard_url: string | null;
  /** oldest first (read as a tail); the newest EVIDENCE_MAX_LINES at warning or worse */
  lines: EvidenceLine[];
  /** older lines at warning or worse were left out (count or byte bound) */
  lines_omitted: boolean;
  /** metric rules: the points of the window the rule consolidated */
  metric?: { key: string; window_s: number; points: Array<{ t: number; v: number }>; points_omitted: boolean };
  /** check rules: the check's last result */
  check?: { name: string; status: 'up' | 'down' | null; results: Array<{ t: number; v: number }> };
}

/** What evidence reads: the log store's query and the alert sources. */
export interface EvidenceSources {
  logs: { query(filter: LogFilter): { items: LogItem[] } };
  alerts: Pick<AlertSources, 'seriesPoints' | 'checkStatus'>;
  /** alerts.external_url, '' when unset */
  externalURL: string;
}

/** `#/host/<host>?from=…&to=…` as dashboard/public/js/router.js reads it (from/to in ms). */
export function dashboardLink(externalURL: string, host: string, at: number): string | null {
  const base = externalURL.replace(/\/+$/, '');
  if (base === '') return null;
  const q = new URLSearchParams({ from: String(at - LINK_BEFORE_MS), to: String(at + LINK_AFTER_MS) });
  return `${base}/#/host/${encodeURIComponent(host)}?${q.toString()}`;
}

export function evidenceLines(logs: EvidenceSources['logs'], host: string, at: number, lookbackMs = EVIDENCE_LOOKBACK_MS): { lines: EvidenceLine[]; omitted: boolean } {
  const start = Number.isFinite(lookbackMs) ? at - lookbackMs : undefined;
  // one more than kept, to know whether older ones were left out
  const items = logs.query({ host, severity: EVIDENCE_SEVERITY, start, end: at + 1, limit: EVIDENCE_MAX_LINES + 1 }).items;
  const newestFirst = [...items].sort((a, b) => b.ts - a.ts || b.id - a.id);
  const out: EvidenceLine[] = [];
  let budget = EVIDENCE_MAX_BYTES;
  let omitted = newestFirst.length > EVIDENCE_MAX_LINES;
  for (const it of newestFirst.slice(0, EVIDENCE_MAX_LINES)) {
    const text = cutUtf8(it.message, Math.min(EVIDENCE_MAX_LINE_BYTES, budget));
    if (text === '' && it.message !== '') {
      omitted = true;
      break;
    }
    budget -= Buffer.byteLength(text, 'utf8');
    const line: EvidenceLine = { ts: it.ts, severity: it.severity, level: LEVELS[it.severity] ?? String(it.severity), source: it.source, program: it.program, message: text };
    // (a cut string is always shorter than the message)
    if (text !== it.message) Object.assign(line, { truncated: true, bytes: Buffer.byteLength(it.message, 'utf8') });
    out.push(line);
  }
  return { lines: out.reverse(), omitted };
}

/**
 * The evidence of one alert instance (rule, host, series) at `at`. Never throws: a source that
 * fails leaves its part out, a host with nothing to show gets empty evidence.
 */
export function gatherEvidence(src: EvidenceSources, rule: CompiledRule, host: string, series: string, at: number): Evidence {
  const ev: Evidence = { at, host, dashboard_url: dashboardLink(src.externalURL, host, at), lines: [], lines_omitted: false };
  try {
    const l = evidenceLines(src.logs, host, at);
    ev.lines = l.lines;
    ev.lines_omitted = l.omitted;
  } catch {
    /* no lines: the rest of the evidence still goes */
  }
  const r = rule.spec;
  try {
    if (r.kind === 'metric') {
      const key = r.metric + series;
      const pts = src.alerts.seriesPoints(host, key, rule.windowMs / 1000, at);
      const all = pts ? pts.t.map((t, i) => ({ t, v: pts.v[i]! })) : [];
      ev.metric = { key, window_s: rule.windowMs / 1000, points: all.slice(-EVIDENCE_MAX_POINTS), points_omitted: all.length > EVIDENCE_MAX_POINTS };
    } else if (r.kind === 'check') {
      const name = series !== '' ? (parseMetricKey('x' + series)?.labels.check ?? r.check) : r.check;
      const status = src.alerts.checkStatus(host, name, at, { samples: r.samples, types: r.check_types }) ?? null;
      const results: Array<{ t: number; v: number }> = [];
      for (const type of r.check_types ?? (['process', 'http', 'tcp'] as const)) {
        const pts = src.alerts.seriesPoints(host, metricKey(CHECK_SERIES[type], { check: name }), Math.max(60, rule.windowMs / 1000), at);
        if (pts && pts.t.length > 0) {
          pts.t.slice(-10).forEach((t, i, a) => results.push({ t, v: pts.v[pts.v.length - a.length + i]! }));
          break;
        }
      }
      ev.check = { name, status, results };
    }
  } catch {
    /* the values are optional evidence; the alert goes without them */
  }
  return ev;
}
