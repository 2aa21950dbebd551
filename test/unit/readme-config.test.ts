// The README's configuration reference must list exactly the options the schemas accept,
// with the flags and defaults derived from them.
import { readFileSync } from 'node:fs';
import { Kind, type TObject, type TSchema } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { AgentConfig } from '../../agent/config.js';
import { optionSpecs } from '../../cli/options.js';
import { CollectorConfig } from '../../collector/config.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

function table(name: string): Array<{ key: string; flag: string; def: string }> {
  const m = new RegExp(`<!-- config:${name} -->([\\s\\S]*?)<!-- /config:${name} -->`).exec(readme);
  if (!m) throw new Error(`README has no config:${name} table`);
  return m[1]!
    .trim()
    .split('\n')
    .slice(2)
    .map((row) => row.split('|').map((c) => c.trim()))
    .map((c) => ({ key: c[1]!.replace(/`/g, ''), flag: c[2]!.replace(/`/g, ''), def: c[3]!.replace(/`/g, '') }));
}

interface Row {
  path: string;
  flag: string;
  schema: TSchema;
}

/** Leaves of an object schema as `prefix.key`, nested objects flattened. */
function leaves(schema: TObject, prefix: string): Array<{ path: string; schema: TSchema }> {
  return Object.entries(schema.properties).flatMap(([key, sub]) =>
    sub[Kind] === 'Object' ? leaves(sub as TObject, `${prefix}.${key}`) : [{ path: `${prefix}.${key}`, schema: sub }],
  );
}

/**
 * What the table must hold: every option with its derived flag. A list of objects (only a config
 * file can express it) may be followed by one row per field of its items, `key[].field`; if the
 * table has any such row, it must have all of them, in schema order.
 */
function expectedRows(schema: TObject, table: Array<{ key: string }>): Row[] {
  return optionSpecs(schema).flatMap((spec) => {
    const own: Row = { path: spec.path, flag: spec.flag, schema: spec.schema };
    const items = (spec.schema as { items?: TSchema }).items;
    const detailed = table.some((r) => r.key.startsWith(`${spec.path}[].`));
    if (spec.schema[Kind] !== 'Array' || items?.[Kind] !== 'Object' || !detailed) return [own];
    return [own, ...leaves(items as TObject, `${spec.path}[]`).map((l) => ({ path: l.path, flag: '(config file)', schema: l.schema }))];
  });
}

describe.each([
  ['collector', CollectorConfig],
  ['agent', AgentConfig],
] as Array<[string, TObject]>)('README %s reference', (name, schema) => {
  it('lists every option with its flag and default', () => {
    const rows = table(name);
    const specs = expectedRows(schema, rows);
    expect(rows.map((r) => r.key)).toEqual(specs.map((s) => s.path));
    for (const spec of specs) {
      const row = rows.find((r) => r.key === spec.path)!;
      expect(row.flag).toBe(spec.flag);
      const def = (spec.schema as { default?: unknown }).default;
      if (def !== undefined && spec.path !== 'host') expect(row.def).toBe(String(def));
      if (def === undefined) expect(row.def).toMatch(/^\(/);
    }
  });
});
