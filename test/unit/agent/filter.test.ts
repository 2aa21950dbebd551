// Edge filters: include/exclude expressions and a minimum severity, table-driven.
import { describe, expect, it } from 'vitest';
import { compileFilter } from '../../../agent/sources/file/filter.js';
import { ConfigError } from '../../../shared/errors.js';
import type { SourceConfig } from '../../../agent/config.js';

/** the filtering options of a source, as a config file gives them */
type FilterRules = Pick<SourceConfig, 'include' | 'exclude' | 'min_severity'>;

describe('compileFilter', () => {
  it.each<[string, FilterRules, string, number, boolean]>([
    ['no rules keeps all', {}, 'anything', 7, true],
    ['include matches', { include: ['ERROR', 'WARN'] }, 'x WARN y', 6, true],
    ['include misses', { include: ['ERROR'] }, 'x INFO y', 6, false],
    ['exclude wins over include', { include: ['GET'], exclude: ['/healthz'] }, 'GET /healthz', 6, false],
    ['exclude alone', { exclude: ['^DEBUG'] }, 'DEBUG x', 7, false],
    ['min severity keeps more important', { min_severity: 'warning' }, 'x', 3, true],
    ['min severity keeps equal', { min_severity: 'warning' }, 'x', 4, true],
    ['min severity drops less important', { min_severity: 'warning' }, 'x', 6, false],
  ])('%s', (_n, rules, text, severity, keep) => {
    const f = compileFilter({ paths: ['/x'], ...rules }, 0);
    expect(f.keep(text, severity)).toBe(keep);
    expect(f.active).toBe(Object.keys(rules).length > 0);
  });

  it('names the source and the pattern of a bad expression', () => {
    expect(() => compileFilter({ paths: ['/x'], exclude: ['ok', '(unclosed'] }, 2)).toThrow(ConfigError);
    expect(() => compileFilter({ paths: ['/x'], exclude: ['ok', '(unclosed'] }, 2)).toThrow(/sources\.2\.exclude\.1: invalid regular expression '\(unclosed'/);
  });
});
