// Series identity and layouts: keys are canonical (labels sorted), reversible, and the store's
// series names split back into host and key even when the host holds '/'.
import { describe, expect, it } from 'vitest';
import { metricKey, parseMetricKey, seriesName, splitSeriesName } from '../../collector/metrics/key.js';
import { createLayouts, globToRegExp } from '../../collector/metrics/layout.js';

describe('metric keys', () => {
  it.each([
    ['load.1', undefined, 'load.1'],
    ['load.1', {}, 'load.1'],
    ['disk.write_bytes', { device: 'vda' }, 'disk.write_bytes{device=vda}'],
    ['tcp.connections', { state: 'listen', family: 'all' }, 'tcp.connections{family=all,state=listen}'],
    ['df.used_pct', { mount: '/var/lib/x' }, 'df.used_pct{mount=/var/lib/x}'],
    ['x.empty', { v: '' }, 'x.empty{v=}'],
  ])('%s %j → %s and back', (name, labels, key) => {
    expect(metricKey(name, labels)).toBe(key);
    expect(parseMetricKey(key)).toEqual({ name, labels: labels ?? {} });
  });

  it.each(['Load', 'a{b}', 'a{=x}', 'a{b=c', '{b=c}', 'a b'])('%s is no metric key', (key) => {
    expect(parseMetricKey(key)).toBeNull();
  });

  it.each([
    ['web-1', 'load.1'],
    ['ns/web-1', 'df.used_pct{mount=/var/lib}'],
    ['a/b/c', 'x.y{p=/q/r}'],
  ])('series name of %s + %s splits back', (host, key) => {
    expect(splitSeriesName(seriesName(host, key))).toEqual({ host, key });
  });
});

describe('layouts', () => {
  it.each([
    ['check.*', 'check.http.up', true],
    ['check.*', 'checks', false],
    ['df.*_pct', 'df.inodes_used_pct', true],
    ['load.1', 'load.15', false],
    ['*', 'anything.at.all', true],
  ])('%s matches %s: %s', (glob, name, want) => {
    expect(globToRegExp(glob).test(name)).toBe(want);
  });

  it.each([
    ['GAUGE', 10_000, 20, NaN],
    ['DERIVE', 10_000, 20, 0],
    ['COUNTER', 60_000, 120, NaN],
    ['GAUGE', 1_000, 20, NaN],
  ] as const)('%s at %i ms: heartbeat %i, min %s', (type, interval, heartbeat, min) => {
    const def = createLayouts().define('x.y', type, interval);
    expect(def.step).toBe(10);
    expect(def.ds).toEqual([{ name: 'value', type, heartbeat, min, max: NaN }]);
    expect(def.rra).toHaveLength(8);
  });

  it('the first matching override wins', () => {
    const l = createLayouts([
      { match: 'check.*', step: 1, rra: ['LAST:0.5:1:60'] },
      { match: '*', step: 60 },
    ]);
    expect(l.define('check.tcp.up', 'GAUGE', 10_000)).toMatchObject({ step: 1, rra: [{ cf: 'LAST', xff: 0.5, pdpPerRow: 1, rows: 60 }] });
    expect(l.define('load.1', 'GAUGE', 10_000)).toMatchObject({ step: 60 });
    expect(l.define('load.1', 'GAUGE', 10_000).ds[0]!.heartbeat).toBe(120);
  });
});
