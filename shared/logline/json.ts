// JSON object lines (pino, bunyan, Docker json-file, journald `-o json`, ECS, structlog …):
// message, level and time from their usual keys (roles.ts), everything else a bounded field.
// A line that is not a JSON object is not ours (null): it stays a plain line, never an error.
import { FieldSink, flattenInto } from './fields.js';
import { pickRoles } from './roles.js';
import { toStructured, type Structured } from './structured.js';

export function parseJsonLine(text: string, zone: string, now: number): Structured | null {
  // Cheap tests first: `{` … `}` (trailing white space allowed) before JSON.parse is asked.
  if (text.charCodeAt(0) !== 123) return null;
  let end = text.length - 1;
  while (end > 0 && (text.charCodeAt(end) === 32 || text.charCodeAt(end) === 9)) end--;
  if (text.charCodeAt(end) !== 125) return null;
  let obj: unknown;
  try {
    // V8's JSON.parse does not recurse on the native stack, so deep nesting is no crash.
    obj = JSON.parse(text);
  } catch {
    return null;
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return null;
  const o = obj as Record<string, unknown>;
  const roles = pickRoles(Object.keys(o), (k) => o[k], zone, now);
  const sink = new FieldSink();
  flattenInto(sink, o, '', 0, roles.used.length ? roles.used : undefined);
  return toStructured('json', roles, sink);
}
