// Edge filters of one source: include and exclude regular expressions over the raw line and a
// minimum severity over the parsed one, so only the essential lines travel. Compiled once;
// a bad expression is a configuration error that names the source and the pattern.
import { ConfigError } from '../../../shared/errors.js';
import { Severity, type SeverityName } from '../../../shared/wire.js';
import type { SourceConfig } from '../../config.js';

export interface LineFilter {
  /** true when the line travels */
  keep(text: string, severity: number): boolean;
  readonly active: boolean;
}

function compile(pattern: string, key: string): RegExp {
  try {
    return new RegExp(pattern);
  } catch (err) {
    throw new ConfigError(key, `invalid regular expression '${pattern}': ${(err as Error).message}`);
  }
}

export function compileFilter(src: SourceConfig, index: number): LineFilter {
  const include = (src.include ?? []).map((p, i) => compile(p, `sources.${index}.include.${i}`));
  const exclude = (src.exclude ?? []).map((p, i) => compile(p, `sources.${index}.exclude.${i}`));
  const maxSeverity = src.min_severity !== undefined ? Severity[src.min_severity as SeverityName] : 7;
  const active = include.length > 0 || exclude.length > 0 || maxSeverity < 7;
  return {
    active,
    keep(text, severity) {
      // Severity numbers grow as importance falls: "at least warning" keeps 0..4.
      if (severity > maxSeverity) return false;
      if (include.length > 0 && !include.some((re) => re.test(text))) return false;
      for (const re of exclude) if (re.test(text)) return false;
      return true;
    },
  };
}

export function compileMultilineStart(src: SourceConfig, index: number): RegExp | undefined {
  return src.multiline ? compile(src.multiline.start, `sources.${index}.multiline.start`) : undefined;
}
