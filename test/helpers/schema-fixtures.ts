// The data directories of earlier schema versions (test/fixtures/schemas/vN, made by
// scripts/compat/make-fixtures.mjs): the database files are kept gzipped beside a manifest.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

export const SCHEMA_FIXTURES = new URL('../fixtures/schemas/', import.meta.url).pathname;

/** Copies fixture vN's database files, unzipped, into `into` (the fixture itself is never written); returns the fixture's folder. */
export function copySchemaFixture(version: number, into: string): string {
  const src = join(SCHEMA_FIXTURES, `v${version}`);
  mkdirSync(into, { recursive: true });
  for (const f of readdirSync(src)) if (f.endsWith('.gz')) writeFileSync(join(into, f.slice(0, -3)), gunzipSync(readFileSync(join(src, f))));
  return src;
}
