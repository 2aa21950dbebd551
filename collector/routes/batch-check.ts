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
// only ever passes what JSON.parse made.) Every bound is read from the schema (shared/wire.ts),
// so that the two cannot come to disagree on one.
import { HOST_PATTERN, IngestBatch, WireLine, WireSegment, WIRE_VERSION } from '../../shared/wire.js';

const HOST_RE = new RegExp(HOST_PATTERN);

type Bounded = { minLength?: number; maxLength?: number; minimum?: number; maximum?: number; maxItems?: number };
/** [min, max] of a string's length or an integer's value, as the schema says */
const span = (s: Bounded): [number, number] => (s.maxLength !== undefined ? [s.minLength ?? 0, s.maxLength] : [s.minimum!, s.maximum!]);
const L = WireLine.properties;
const OFFSET = span(L.offset);
const TS = span(L.ts);
const SEVERITY = span(L.severity);
const MESSAGE = span(L.message);
const PROGRAM = span(L.program);
const PID = span(L.pid);
const FACILITY = span(L.facility);
const FIELD_VALUE = span(Object.values(L.fields.patternProperties)[0] as Bounded);
const S = WireSegment.properties;
const STREAM = span(S.stream);
const SOURCE = span(S.source);
const START = span(S.start);
const END = span(S.end);
const MAX_LINES = S.lines.maxItems!;
const B = IngestBatch.properties;
const AGENT_ID = span(B.agent_id);
const HOST = span(B.host);
const MAX_SEGMENTS = B.segments.maxItems!;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown, [min, max]: [number, number]): boolean => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
const isText = (v: unknown, [min, max]: [number, number]): boolean => typeof v === 'string' && v.length >= min && v.length <= max;

function keyCount(o: object): number {
  let n = 0;
  for (const _ in o) n++;
  return n;
}

function isFields(f: unknown): boolean {
  // a plain object only (the schema refuses a Date or a Uint8Array; JSON makes neither)
  if (!isRecord(f) || Object.getPrototypeOf(f) !== Object.prototype) return false;
  for (const k in f) if (!isText(f[k], FIELD_VALUE)) return false;
  return true;
}

function isLine(v: unknown): boolean {
  if (!isRecord(v)) return false;
  let known = 4;
  if (!isInt(v.offset, OFFSET) || !isInt(v.ts, TS) || !isInt(v.severity, SEVERITY) || !isText(v.message, MESSAGE)) return false;
  if (v.program !== undefined) {
    if (!isText(v.program, PROGRAM)) return false;
    known++;
  }
  if (v.pid !== undefined) {
    if (!isInt(v.pid, PID)) return false;
    known++;
  }
  if (v.facility !== undefined) {
    if (!isInt(v.facility, FACILITY)) return false;
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
  if (!isText(v.stream, STREAM) || !isText(v.source, SOURCE) || !isInt(v.start, START) || !isInt(v.end, END)) return false;
  const lines = v.lines;
  if (!Array.isArray(lines) || lines.length > MAX_LINES || keyCount(v) !== 5) return false;
  for (let i = 0; i < lines.length; i++) if (!isLine(lines[i])) return false;
  return true;
}

/** True only for a body that TypeBox's check of IngestBatch accepts too (a JSON value); false: ask it. */
export function isIngestBatchFast(body: unknown): boolean {
  if (!isRecord(body)) return false;
  let known = 4;
  if (body.version !== WIRE_VERSION || !isText(body.agent_id, AGENT_ID) || !isText(body.host, HOST) || !HOST_RE.test(body.host as string)) return false;
  if (body.ephemeral !== undefined) {
    if (typeof body.ephemeral !== 'boolean') return false;
    known++;
  }
  const segments = body.segments;
  if (!Array.isArray(segments) || segments.length > MAX_SEGMENTS || keyCount(body) !== known) return false;
  for (let i = 0; i < segments.length; i++) if (!isSegment(segments[i])) return false;
  return true;
}
