// Collector-side filter rules, compiled once at start-up. A bad rule is a configuration error
// naming the rule, not a surprise at the first line it meets.
import { ConfigError } from '../../shared/errors.js';
import type { FilterRule } from '../config.js';

export interface LineFacts {
  host: string;
  program?: string;
  severity: number;
  message: string;
}

export type LineFilter = (line: LineFacts) => boolean;

export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** Returns a predicate that says whether a line is kept; null when there are no rules. */
export function compileFilters(rules: readonly FilterRule[] | undefined): LineFilter | null {
  if (!rules || rules.length === 0) return null;
  const compiled = rules.map((rule, i) => {
    let re: RegExp | undefined;
    if (rule.re !== undefined) {
      try {
        re = new RegExp(rule.re);
      } catch (err) {
        throw new ConfigError(`filters.${i}.re`, `invalid regular expression: ${(err as Error).message}`);
      }
    }
    const host = rule.host !== undefined ? globToRegExp(rule.host) : undefined;
    const program = rule.program !== undefined ? globToRegExp(rule.program) : undefined;
    const keep = rule.action === 'keep';
    return (l: LineFacts): boolean | undefined => {
      if (host && !host.test(l.host)) return undefined;
      if (program && !program.test(l.program ?? '')) return undefined;
      if (rule.severity_min !== undefined && l.severity < rule.severity_min) return undefined;
      if (rule.severity_max !== undefined && l.severity > rule.severity_max) return undefined;
      if (re && !re.test(l.message)) return undefined;
      return keep;
    };
  });
  return (line) => {
    for (const rule of compiled) {
      const verdict = rule(line);
      if (verdict !== undefined) return verdict;
    }
    return true;
  };
}
