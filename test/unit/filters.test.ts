import { describe, expect, it } from 'vitest';
import type { FilterRule } from '../../collector/config.js';
import { compileFilters, globToRegExp, type LineFacts } from '../../collector/ingest/filters.js';
import { prepareBatch } from '../../collector/ingest/pipeline.js';
import { createEvents } from '../../shared/events.js';
import { batchOf } from '../helpers/collector.js';

const line = (over: Partial<LineFacts> = {}): LineFacts => ({ host: 'web-1', program: 'nginx', severity: 6, message: 'GET /healthz 200', ...over });

describe('collector filter rules', () => {
  const rules: FilterRule[] = [
    { action: 'keep', host: 'db-*', severity_max: 3 },
    { action: 'drop', host: 'db-*' },
    { action: 'drop', severity_min: 7 },
    { action: 'drop', program: 'nginx', re: 'GET /healthz ' },
    { action: 'drop', program: 'CRON' },
  ];
  const keep = compileFilters(rules)!;

  it.each([
    ['an error from a db host is kept by the first rule', line({ host: 'db-2', severity: 3 }), true],
    ['info from a db host is dropped by the second', line({ host: 'db-2', severity: 6 }), false],
    ['debug anywhere is dropped', line({ severity: 7, program: 'app', message: 'x' }), false],
    ['health checks from nginx are dropped', line(), false],
    ['other nginx lines are kept', line({ message: 'GET /login 200' }), true],
    ['the regex only applies with its program', line({ program: 'app' }), true],
    ['a line without program does not match a program rule', line({ program: undefined, message: 'hello' }), true],
    ['CRON is dropped, cron (case differs) is kept', line({ program: 'cron', message: 'x' }), true],
    ['no rule matches: kept', line({ host: 'web-9', program: 'sshd', message: 'Accepted' }), true],
  ])('%s', (_name, facts, want) => {
    expect(keep(facts)).toBe(want);
  });

  it('has no filter without rules', () => {
    expect(compileFilters(undefined)).toBeNull();
    expect(compileFilters([])).toBeNull();
  });

  it('names the rule with a bad regular expression', () => {
    expect(() => compileFilters([{ action: 'drop' }, { action: 'drop', re: '(' }])).toThrow(/filters\.1\.re: invalid regular expression/);
  });

  it.each([
    ['web-*', 'web-12', true],
    ['web-*', 'db-1', false],
    ['web-?', 'web-1', true],
    ['web-?', 'web-12', false],
    ['a.b', 'axb', false],
    ['(x)', '(x)', true],
  ])('glob %s vs %s', (glob, text, want) => {
    expect(globToRegExp(glob).test(text)).toBe(want);
  });

  it('drops filtered lines from the batch but keeps the segment, so offsets still advance', () => {
    const events = createEvents();
    const b = batchOf(['keep me', 'GET /healthz 200', 'also kept'], { program: 'nginx' });
    const out = prepareBatch(b, Date.now(), keep, events);
    expect(out.segments[0]!.lines.map((l) => l.message)).toEqual(['keep me', 'also kept']);
    expect(out.segments[0]!.end).toBe(b.segments[0]!.end);
    expect(events.count('ingest.filtered')).toBe(1);
    // the caller's batch is not modified
    expect(b.segments[0]!.lines).toHaveLength(3);
  });
});
