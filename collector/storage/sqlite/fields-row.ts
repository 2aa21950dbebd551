// What the store keeps of a line's fields: their JSON (the `fields` column) and their FTS5 tokens
// (field-tokens.ts), made once per line where the line is packed (packed.ts).
import type { WireLine } from '../../../shared/wire.js';
import { fieldTokens } from './field-tokens.js';

/** A line's `fields` column (JSON) and its row of field tokens (field-tokens.ts). */
export type FieldsRow = [json: string, tokens: string];

/**
 * A line as unpackSegment gives it back (packed.ts): its fields already made into
 * their row and its number-run tokens made on the event loop, so the writer, the thread the whole
 * ingest path waits for, neither rebuilds nor serialises a fields object nor scans the message.
 */
export interface RowReadyLine extends WireLine {
  fieldsRow?: FieldsRow;
  /** numTokens(message) */
  numRuns?: string;
}

/** The fields row of a line, or null when it stores none (no fields, not truncated). */
export function fieldsRow(line: WireLine): FieldsRow | null {
  if (!line.fields && !line.truncated) return null;
  const o = line.truncated ? { ...line.fields, truncated: 'true' } : line.fields!;
  return [JSON.stringify(o), fieldTokens(o)];
}
