// Structured fields of one line, bounded where they are made, so a JSON line of 10,000 keys or
// 100 levels of nesting costs bounded memory and time. The collector bounds received fields with
// the same constants (collector/ingest/pipeline.ts: 64 fields with the mark, names 128 and values
// 1024 UTF-8 bytes), which also fit the wire schema (128 / 8192 characters): a line bounded here passes
// there unchanged, so the count it carries is the whole count. Every field dropped and every
// key or value cut counts once; a line that lost anything says so in `fields_truncated`.
export const MAX_FIELDS = 64;
export const MAX_KEY = 128;
export const MAX_VALUE = 1024;
/** Nesting flattened as `a.b.c`; deeper objects become their JSON text. */
export const MAX_DEPTH = 8;
export const TRUNCATED_KEY = 'fields_truncated';

export class FieldSink {
  // No prototype: `__proto__`, `constructor` are keys like any other, and a miss is `undefined`.
  readonly out: Record<string, string> = Object.create(null) as Record<string, string>;
  count = 0;
  truncated = 0;

  /** Adds one field unless the line is full; later keys of the same name replace earlier ones. */
  add(key: string, value: string): void {
    // A string of L UTF-16 units has at most 3L UTF-8 bytes: most need no count.
    if (key.length * 3 > MAX_KEY && Buffer.byteLength(key) > MAX_KEY) {
      key = cutUtf8(key, MAX_KEY);
      this.truncated++;
    }
    if (value.length * 3 > MAX_VALUE && Buffer.byteLength(value) > MAX_VALUE) {
      value = cutUtf8(value, MAX_VALUE);
      this.truncated++;
    }
    if (this.out[key] === undefined) {
      if (this.count >= MAX_FIELDS) {
        this.truncated++;
        return;
      }
      this.count++;
    }
    this.out[key] = value;
  }

  get full(): boolean {
    return this.count >= MAX_FIELDS;
  }

  /** The fields with the truncation mark, or undefined when there are none. */
  result(): Record<string, string> | undefined {
    if (this.truncated > 0) {
      // The mark is one of the MAX_FIELDS: a full line gives up its last field for it.
      if (this.count >= MAX_FIELDS && this.out[TRUNCATED_KEY] === undefined) {
        const keys = Object.keys(this.out);
        delete this.out[keys[keys.length - 1]!];
        this.truncated++;
      }
      this.out[TRUNCATED_KEY] = String(this.truncated);
    }
    return this.count > 0 || this.truncated > 0 ? this.out : undefined;
  }
}

/** The longest prefix of `s` of at most `max` UTF-8 bytes that does not split a character. */
export function cutUtf8(s: string, max: number): string {
  const b = Buffer.from(s.length > max ? s.slice(0, max) : s, 'utf8');
  if (b.length <= max) return s.length > max ? s.slice(0, max) : s;
  let end = max;
  while (end > 0 && (b[end]! & 0xc0) === 0x80) end--; // not inside a multi-byte character
  return b.subarray(0, end).toString('utf8');
}

/** A JSON value as field text: strings as they are, objects too deep or arrays as JSON. */
export function valueText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null) return 'null';
  if (typeof v !== 'object') return String(v);
  try {
    return JSON.stringify(v);
  } catch {
    // Only a nesting deeper than the stack (a 64 KiB line can hold ~32,000 levels).
    return '[unserialisable]';
  }
}

/** Adds the entries of `obj` flattened with dots, skipping `skip` at the top level. */
export function flattenInto(sink: FieldSink, obj: Record<string, unknown>, prefix: string, depth: number, skip?: readonly string[]): void {
  for (const k in obj) {
    if (skip !== undefined && depth === 0 && skip.includes(k)) continue;
    const key = prefix === '' ? k : `${prefix}.${k}`;
    if (sink.full) {
      // Counted, not walked: a line of 10,000 keys costs one pass over its top level.
      sink.truncated++;
      continue;
    }
    const v = obj[k];
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && depth + 1 < MAX_DEPTH) {
      let empty = true;
      for (const _ in v) {
        empty = false;
        break;
      }
      if (!empty) {
        flattenInto(sink, v as Record<string, unknown>, key, depth + 1);
        continue;
      }
    }
    const text = valueText(v);
    sink.add(key, text.length > MAX_VALUE * 2 ? text.slice(0, MAX_VALUE + 1) : text);
  }
}
