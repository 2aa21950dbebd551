// A series is one (host, metric key); the key is the sample's name with its labels in a fixed
// order, `disk.write_bytes{device=vda}`, so the same measurement always lands in one series.
import { METRIC_NAME_PATTERN } from '../../shared/wire.js';

export function metricKey(name: string, labels?: Record<string, string>): string {
  if (!labels) return name;
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return name;
  return `${name}{${keys.map((k) => `${k}=${labels[k]}`).join(',')}}`;
}

const KEY = /^([^{}]+)(?:\{([^{}]*)\})?$/;
const NAME = new RegExp(METRIC_NAME_PATTERN);

/** The inverse of metricKey, or null for text that is no metric key. */
export function parseMetricKey(key: string): { name: string; labels: Record<string, string> } | null {
  const m = KEY.exec(key);
  if (!m || !NAME.test(m[1]!)) return null;
  // null prototype: a key `__proto__` (refused at the wire since, but possibly in an older
  // store) is an own property here, not the object's prototype, and survives a restart
  const labels: Record<string, string> = Object.create(null) as Record<string, string>;
  if (m[2] !== undefined && m[2] !== '') {
    for (const part of m[2].split(',')) {
      const eq = part.indexOf('=');
      if (eq <= 0) return null;
      labels[part.slice(0, eq)] = part.slice(eq + 1);
    }
  }
  return { name: m[1]!, labels };
}

/**
 * The store's name of a series. Metric names hold no '/', so the key starts after the last '/'
 * before its '{': host names may contain '/' without ambiguity.
 */
export function seriesName(host: string, key: string): string {
  return `${host}/${key}`;
}

export function splitSeriesName(name: string): { host: string; key: string } | null {
  const brace = name.indexOf('{');
  const head = brace < 0 ? name : name.slice(0, brace);
  const slash = head.lastIndexOf('/');
  if (slash <= 0) return null;
  return { host: name.slice(0, slash), key: name.slice(slash + 1) };
}
