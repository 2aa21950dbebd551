// What a database from a newer ringtail gets: refused before anything is written, with the way
// out. Migrations only go forward (docs/upgrades.md): an older ringtail cannot know what a newer
// schema means, so it must neither read nor "fix" it. Each migration run records the ringtail
// that ran it (`ringtail_meta.schema_written_by`), so a later refusal can name the version to run.
import { packageVersion } from '../../../cli/commands/version.js';
import { ErrorCodes, RingtailError } from '../../../shared/errors.js';
import type { Db } from './open.js';

const META = 'CREATE TABLE IF NOT EXISTS ringtail_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID';

/** Inside a migration's transaction: this ringtail wrote the schema now in the file. */
export function recordSchemaWriter(db: Db): void {
  db.exec(META);
  db.prepare("INSERT INTO ringtail_meta (key, value) VALUES ('schema_written_by', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(packageVersion());
}

function writtenBy(db: Db): string | null {
  try {
    return (db.prepare("SELECT value FROM ringtail_meta WHERE key = 'schema_written_by'").pluck().get() as string | undefined) ?? null;
  } catch {
    return null; // no ringtail_meta: written before 0.1.0 recorded it
  }
}

/**
 * The refusal of a `what` schema version `found` above `known`: which ringtail wrote it (when
 * recorded), which one this is, and what to do — run that version or a newer one on the data
 * directory, or restore the copy saved before upgrading.
 */
export function newerSchemaError(db: Db, file: string, what: string, found: number | string, known: number | string): RingtailError {
  const by = writtenBy(db);
  const run = by ? `run ringtail ${by} or newer` : 'run the newer ringtail that wrote it';
  return new RingtailError(
    ErrorCodes.STORAGE,
    `'${file}': ${what} version ${found} was written by ${by ? `ringtail ${by}` : 'a newer ringtail'}; this is ringtail ${packageVersion()}, which knows up to version ${known} and never downgrades a database: ` +
      `${run} on this data directory, or start this one on the copy saved before the upgrade (see docs/upgrades.md)`,
  );
}
