// The definitions of a store's series, shared: a fleet's series use a handful of layouts, and a
// decoded (or cloned) copy per series was ~1 KB of heap each (180,000 series: ~180 MB) and a
// JSON encoding per created series. One object per distinct definition, by its stored text, and
// each object's text.
import { decodeDef, encodeJson } from './state-codec.js';
import type { SeriesDef } from './types.js';

export class DefTable {
  private readonly byText = new Map<string, SeriesDef>();
  private readonly textOf = new WeakMap<SeriesDef, string>();

  /** The shared definition object for a stored text. */
  ofText(text: string): SeriesDef {
    let def = this.byText.get(text);
    if (!def) {
      def = decodeDef(text);
      this.byText.set(text, def);
      this.textOf.set(def, text);
    }
    return def;
  }

  /** A definition's shared object and stored text (encoded once per object given). */
  intern(def: SeriesDef): { def: SeriesDef; text: string } {
    let text = this.textOf.get(def);
    if (text === undefined) {
      text = encodeJson(def);
      const shared = this.byText.get(text);
      if (shared) {
        this.textOf.set(def, text);
        return { def: shared, text };
      }
      this.byText.set(text, def);
      this.textOf.set(def, text);
      return { def, text };
    }
    return { def: this.byText.get(text) ?? def, text };
  }
}
