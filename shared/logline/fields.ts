// Structured fields of one line, bounded as the wire schema requires (WireLine.fields: keys
// ≤ 128, values ≤ 8192 characters) and in count, so a JSON line of 10,000 keys or 100 levels of
// nesting costs bounded memory and time. Every field dropped and every key or value cut counts
// once; a line that lost anything says so in one more field, `fields_truncated` (the count).
export const MAX_FIELDS = 64;
export const MAX_KEY = 128;
export const MAX_VALUE = 8192;
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
    if (key.length > MAX_KEY) {
      key = key.slice(0, MAX_KEY);
      this.truncated++;
    }
    if (value.length > MAX_VALUE) {
      value = value.slice(0, MAX_VALUE);
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
    // The mark comes on top of MAX_FIELDS, so it never costs a field of the line.
    if (this.truncated > 0) this.out[TRUNCATED_KEY] = String(this.truncated);
    return this.count > 0 || this.truncated > 0 ? this.out : undefined;
  }
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
