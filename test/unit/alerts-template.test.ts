import { describe, expect, it } from 'vitest';
import { checkTemplate, formatValue, renderTemplate } from '../../collector/alerts/template.js';

const data = { value: 93.456789, rule: 'cpu-high', severity: 'critical', labels: { host: 'web-1', team: 'ops' } };

describe('annotation templates', () => {
  it.each([
    ['{{ $labels.host }} CPU at {{ $value }}%', 'web-1 CPU at 93.4568%'],
    ['{{$labels.host}}/{{ $labels.team }}', 'web-1/ops'],
    ['{{ $rule }} is {{ $severity }}', 'cpu-high is critical'],
    ['missing label: [{{ $labels.nope }}]', 'missing label: []'],
    ['no template at all', 'no template at all'],
    ['$(touch /tmp/x) {{ $labels.host }}', '$(touch /tmp/x) web-1'],
  ])('%s', (tpl, want) => {
    expect(checkTemplate(tpl)).toBeNull();
    expect(renderTemplate(tpl, data)).toBe(want);
  });

  it('label values are inserted as text, never re-expanded', () => {
    expect(renderTemplate('{{ $labels.host }}', { ...data, labels: { host: '{{ $value }}' } })).toBe('{{ $value }}');
  });

  it.each([
    ['{{ $value | printf "%.2f" }}', 'unknown template variable'],
    ['{{ .Labels.host }}', 'unknown template variable'],
    ['{{ constructor.constructor("x")() }}', 'unknown template variable'],
    ['{{ $labels.host', 'unbalanced'],
    ['}} oops', 'unbalanced'],
  ])('rejects %s', (tpl, msg) => {
    expect(checkTemplate(tpl)).toContain(msg);
  });

  it.each([
    [null, 'unknown'],
    [3, '3'],
    [0.1 + 0.2, '0.3'],
    [1 / 3, '0.3333'],
    [Infinity, '+Inf'],
  ])('formats %s as %s', (v, want) => {
    expect(formatValue(v)).toBe(want);
  });
});
