// One update call's journal text in one piece. The journal holds one line per accepted argument,
// `id<TAB>arg`, lines joined by newlines; updateMany builds it for every round the collector
// writes. Appending each line to the text as it went made ~3,000 rope pieces per 1,000-series
// round, each argument was flattened into a copy of its own when it was checked, and SQLite's
// binding flattened the rope again (callgrind: a quarter of the call's instructions). Here the
// pieces are joined once into a flat text and each argument is checked where it sits in the
// text's bytes.
//
// Only the plain case takes this path: every series already loaded, every argument
// `seconds:reading…` that the quick check accepts, in time order. Anything else (an unknown or
// not yet loaded series, `N:`, an argument the quick check defers or refuses) returns undefined
// and the caller takes the general path (general()), which journals the same text for the same
// arguments and gives rrdtool's exact errors.
import { quickValidateBytes, validateUpdate } from './engine.js';
import type { SeriesDef, UpdateManyItem } from './types.js';

/** What the journal needs of a series (the store's per-series memo). */
export interface JournalSeries {
  readonly id: number;
  readonly def: SeriesDef;
  /** `id` and a tab, and the same after a newline: the start of the series' journal lines */
  readonly prefix: string;
  readonly nlPrefix: string;
  /** last update time committed to the journal */
  lastUp: number;
  /** within one update call: the last time accepted so far, and that call's serial */
  callLastUp: number;
  call: number;
}

/** A call's journaled lines (series id, the argument's place in the text), reused across calls. */
export class JournalLines {
  ids = new Float64Array(1024);
  starts = new Int32Array(1024);
  ends = new Int32Array(1024);
  count = 0;
  /** the series a call touched, each once (their lastUp moves when the text is committed) */
  readonly touched: JournalSeries[] = [];
  private readonly parts: string[] = [];
  private readonly series: JournalSeries[] = [];
  private bytes = Buffer.allocUnsafe(64 * 1024);

  /** appends one line's place (the text itself is the caller's) */
  push(id: number, start: number, end: number): void {
    if (this.count === this.ids.length) this.grow();
    this.ids[this.count] = id;
    this.starts[this.count] = start;
    this.ends[this.count] = end;
    this.count++;
  }

  reset(): void {
    this.count = 0;
    this.touched.length = 0;
  }

  /**
   * The journal text of a call whose arguments are all plain and in order (see the top of this
   * file), with its lines' places and touched series recorded here; undefined otherwise, with
   * nothing recorded (series stamped with `call` are re-stamped by the caller's next call serial).
   */
  plain(items: UpdateManyItem[], find: (name: string) => JournalSeries | undefined, call: number): string | undefined {
    const parts = this.parts;
    const series = this.series;
    let np = 0;
    let pos = 0;
    this.reset();
    for (let i = 0; i < items.length; i++) {
      const m = find(items[i]!.series);
      if (m === undefined) {
        this.reset();
        return undefined;
      }
      series[i] = m;
      const args = items[i]!.args;
      for (let a = 0; a < args.length; a++) {
        const pre = this.count === 0 ? m.prefix : m.nlPrefix;
        const arg = args[a]!;
        parts[np++] = pre;
        parts[np++] = arg;
        pos += pre.length;
        this.push(m.id, pos, (pos += arg.length));
      }
    }
    if (this.count === 0) return undefined;
    if (parts.length !== np) parts.length = np;
    const text = parts.join('');
    // the text's bytes, for the checks; a character beyond ASCII moves byte places off the
    // string's (rare: a U reading's trailing text): the general path then
    if (text.length * 3 > this.bytes.length) this.bytes = Buffer.allocUnsafe(text.length * 3);
    if (this.bytes.write(text, 0, 'utf8') !== text.length) {
      this.reset();
      return undefined;
    }
    const bytes = this.bytes;
    const touched = this.touched;
    for (let i = 0, k = 0; i < items.length; i++) {
      const m = series[i]!;
      if (m.call !== call) {
        m.call = call;
        m.callLastUp = m.lastUp;
        touched.push(m);
      }
      for (let a = items[i]!.args.length; a > 0; a--, k++) {
        const t = quickValidateBytes(m.def, m.callLastUp, bytes, this.starts[k]!, this.ends[k]!);
        if (t < 0) {
          this.reset();
          return undefined;
        }
        m.callLastUp = t;
      }
    }
    return text;
  }

  /**
   * Any call: each argument checked on its own (rrdtool's errors, `N` written as the time), an
   * item stopping at its first bad one; the journal text and its lines as plain() makes them
   * (`load` throws for an unknown series: that item's error).
   */
  general(items: UpdateManyItem[], load: (name: string) => JournalSeries, now: () => number, call: number, errors: Map<number, Error>): { body: string; accepted: number[] } {
    const accepted: number[] = new Array<number>(items.length);
    this.reset();
    const touched = this.touched;
    let body = '';
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      let n = 0;
      try {
        const m = load(item.series);
        // the same series may appear twice in one call
        if (m.call !== call) {
          m.call = call;
          m.callLastUp = m.lastUp;
          touched.push(m);
        }
        // Validation needs only the last update time and the definitions: rrdtool's checks
        // never depend on the previous reading.
        const args = item.args;
        for (let a = 0; a < args.length; a++) {
          const arg = args[a]!;
          const t = validateUpdate(m.def, m.callLastUp, arg, now);
          const line = arg.charCodeAt(0) === 78 /* N */ ? `${t}${arg.slice(1)}` : arg;
          body += this.count === 0 ? m.prefix : m.nlPrefix;
          this.push(m.id, body.length, body.length + line.length);
          body += line;
          m.callLastUp = t;
          n++;
        }
      } catch (err) {
        errors.set(i, err as Error);
      }
      accepted[i] = n;
    }
    return { body, accepted };
  }

  private grow(): void {
    const n = this.ids.length * 2;
    const ids = new Float64Array(n);
    const starts = new Int32Array(n);
    const ends = new Int32Array(n);
    ids.set(this.ids);
    starts.set(this.starts);
    ends.set(this.ends);
    this.ids = ids;
    this.starts = starts;
    this.ends = ends;
  }
}

/**
 * A journal line's time (N was written as the time): its leading digits, read without
 * parseFloat (a tenth of replaying the journal); anything else, such as `1e9:5`, takes parseFloat.
 */
export function leadingTime(arg: string): number {
  let t = 0;
  for (let i = 0; i < arg.length; i++) {
    const c = arg.charCodeAt(i);
    if (c === 58 && i > 0) return t;
    if (c < 48 || c > 57 || i > 15) break;
    t = t * 10 + (c - 48);
  }
  return parseFloat(arg);
}
