// A faster first check of an ingest body, for the JSON values the body parsers make. TypeBox's
// compiled check of IngestBatch stays the authority: this one only says yes to values that check
// accepts too, and everything else goes to it (for its answer and its error message).
//
// Why: for `additionalProperties: false` the compiled code builds, per line, the array of the
// line's property names and a nine-name array literal per name (`every(key => [...].includes(key))`):
// about a third of the check's cost and most of its garbage, on the event loop, for every line
// received. Here the names are counted with for-in instead: a JSON object has only enumerable own
// properties, so a count equal to the number of known properties present means there is no other.
// (An object made otherwise could hide a non-enumerable extra property from the count; the route
// only ever passes what JSON.parse made.) Every other condition is the schema's, in shared/wire.ts.
import { HOST_PATTERN, MAX_PID, MAX_WIRE_INT, MAX_WIRE_TS, WIRE_VERSION } from '../../shared/wire.js';

const HOST_RE = new RegExp(HOST_PATTERN);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown, min: number, max: number): boolean => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
const isText = (v: unknown, min: number, max: number): boolean => typeof v === 'string' && v.length >= min && v.length <= max;

function keyCount(o: object): number {
  let n = 0;
  for (const _ in o) n++;
  return n;
}

function isFields(f: unknown): boolean {
  // a plain object only (the schema refuses a Date or a Uint8Array; JSON makes neither)
  if (!isRecord(f) || Object.getPrototypeOf(f) !== Object.prototype) return false;
  for (const k in f) if (!isText(f[k], 0, 8192)) return false;
  return true;
}

function isLine(v: unknown): boolean {
  if (!isRecord(v)) return false;
  let known = 4;
  if (!isInt(v.offset, 0, MAX_WIRE_INT) || !isInt(v.ts, -MAX_WIRE_TS, MAX_WIRE_TS) || !isInt(v.severity, 0, 7) || !isText(v.message, 0, 1_048_576)) return false;
  if (v.program !== undefined) {
    if (!isText(v.program, 0, 256)) return false;
    known++;
  }
  if (v.pid !== undefined) {
    if (!isInt(v.pid, 0, MAX_PID)) return false;
    known++;
  }
  if (v.facility !== undefined) {
    if (!isInt(v.facility, 0, 23)) return false;
    known++;
  }
  if (v.truncated !== undefined) {
    if (typeof v.truncated !== 'boolean') return false;
    known++;
  }
  if (v.fields !== undefined) {
    if (!isFields(v.fields)) return false;
    known++;
  }
  return keyCount(v) === known;
}

function isSegment(v: unknown): boolean {
  if (!isRecord(v)) return false;
  if (!isText(v.stream, 1, 512) || !isText(v.source, 1, 4096) || !isInt(v.start, 0, MAX_WIRE_INT) || !isInt(v.end, 0, MAX_WIRE_INT)) return false;
  const lines = v.lines;
  if (!Array.isArray(lines) || lines.length > 100_000 || keyCount(v) !== 5) return false;
  for (let i = 0; i < lines.length; i++) if (!isLine(lines[i])) return false;
  return true;
}

/** True only for a body that TypeBox's check of IngestBatch accepts too (a JSON value); false: ask it. */
export function isIngestBatchFast(body: unknown): boolean {
  if (!isRecord(body)) return false;
  let known = 4;
  if (body.version !== WIRE_VERSION || !isText(body.agent_id, 1, 128) || !isText(body.host, 1, 255) || !HOST_RE.test(body.host as string)) return false;
  if (body.ephemeral !== undefined) {
    if (typeof body.ephemeral !== 'boolean') return false;
    known++;
  }
  const segments = body.segments;
  if (!Array.isArray(segments) || segments.length > 10_000 || keyCount(body) !== known) return false;
  for (let i = 0; i < segments.length; i++) if (!isSegment(segments[i])) return false;
  return true;
}
