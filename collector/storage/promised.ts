// An embedded backend (SQLite) answers synchronously; the collector's contracts are
// asynchronous so that a networked one (ClickHouse) can answer too. These two let an embedded
// store implement the synchronous form once and be wrapped into the asynchronous one.

/** The same interface answered synchronously: what an embedded backend implements inside. */
export type Synchronous<T> = { [K in keyof T]-?: T[K] extends ((...a: infer A) => Promise<infer R>) | undefined ? (...a: A) => R : T[K] };

/** Each method of `s` as one that returns a promise of its answer (a throw: a rejected promise). */
export function promised(s: object): Record<string, (...args: unknown[]) => Promise<unknown>> {
  const out: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const [k, fn] of Object.entries(s)) {
    out[k] = (...args: unknown[]) => {
      try {
        return Promise.resolve((fn as (...a: unknown[]) => unknown)(...args));
      } catch (err) {
        return Promise.reject(err);
      }
    };
  }
  return out;
}
