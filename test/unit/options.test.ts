import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentConfig } from '../../agent/config.js';
import { loadOptions } from '../../cli/options.js';
import { CollectorConfig } from '../../collector/config.js';
import { ConfigError } from '../../shared/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'ringtail-opts-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const agentBase = ['--collector', 'http://127.0.0.1:1', '--token', 'abcdefghijk', '--watch', '/tmp/*.log'];

describe('configuration errors name the key and what is wrong', () => {
  const cases: Array<{ name: string; schema: typeof CollectorConfig | typeof AgentConfig; argv: string[]; env?: Record<string, string>; key: string; problem: RegExp }> = [
    { name: 'unknown flag', schema: CollectorConfig, argv: ['--dta', 'x'], key: '--dta', problem: /unknown flag/ },
    { name: 'flag without value', schema: CollectorConfig, argv: ['--data'], key: '--data', problem: /needs a value/ },
    { name: 'bad listen', schema: CollectorConfig, argv: ['--listen', 'nowhere'], key: '--listen', problem: /HOST:PORT.*"nowhere"/ },
    { name: 'non-numeric body limit', schema: CollectorConfig, argv: ['--body-limit', 'lots'], key: '--body-limit', problem: /expected a number, got 'lots'/ },
    { name: 'body limit too small', schema: CollectorConfig, argv: ['--body-limit', '10'], key: '--body-limit', problem: /1024/ },
    { name: 'bad enum', schema: CollectorConfig, argv: ['--log-level', 'loud'], key: '--log-level', problem: /loud/ },
    { name: 'short admin token', schema: CollectorConfig, argv: ['--admin-token', 'short'], key: '--admin-token', problem: /16/ },
    { name: 'missing required', schema: AgentConfig, argv: ['--token', 'abcdefghij', '--watch', 'a'], key: '--collector', problem: /required/ },
    { name: 'bad URL', schema: AgentConfig, argv: ['--collector', 'ftp://x', '--token', 'abcdefghij', '--watch', 'a'], key: '--collector', problem: /http:\/\/ or https:\/\//},
    { name: 'bad env value', schema: AgentConfig, argv: agentBase, env: { RINGTAIL_SCAN_INTERVAL_MS: 'soon' }, key: 'RINGTAIL_SCAN_INTERVAL_MS', problem: /expected a number/ },
    { name: 'nested flag out of range', schema: AgentConfig, argv: [...agentBase, '--batch-max-lines', '0'], key: '--batch-max-lines', problem: /greater or equal to 1, got 0/ },
    { name: 'stray argument', schema: CollectorConfig, argv: ['serve'], key: 'serve', problem: /unexpected argument/ },
    { name: 'unreadable config file', schema: CollectorConfig, argv: ['--config', join(dir, 'missing.json')], key: '--config', problem: /cannot read .*ENOENT/ },
    { name: 'config file not JSON', schema: CollectorConfig, argv: ['--config', file('bad.json', '{ data: ')], key: '--config', problem: /not valid JSON/ },
    { name: 'unknown key in config file', schema: CollectorConfig, argv: ['--config', file('unknown.json', '{"dataa": "x"}')], key: "config key 'dataa'", problem: /unknown key/ },
    { name: 'wrong type in config file', schema: CollectorConfig, argv: ['--config', file('type.json', '{"body_limit": "big"}')], key: '--body-limit', problem: /number|integer/i },
  ];
  it.each(cases)('$name', ({ schema, argv, env, key, problem }) => {
    let caught: unknown;
    try {
      loadOptions(schema, argv, env ?? {});
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const e = caught as ConfigError;
    expect(e.key).toBe(key);
    expect(e.problem).toMatch(problem);
    expect(e.message).not.toContain('\n');
  });
});

describe('configuration sources', () => {
  it('applies schema defaults', () => {
    const { options } = loadOptions<CollectorConfig>(CollectorConfig, [], {});
    expect(options).toMatchObject({ data: './data', listen: '127.0.0.1:8080', log_level: 'info' });
  });

  it('takes flags over environment over file', () => {
    const cfg = file('prec.json', JSON.stringify({ data: '/from/file', listen: '0.0.0.0:1', log_level: 'debug' }));
    const { options } = loadOptions<CollectorConfig>(CollectorConfig, ['--config', cfg, '--data=/from/flag'], {
      RINGTAIL_DATA: '/from/env',
      RINGTAIL_LISTEN: '10.0.0.1:2',
    });
    expect(options.data).toBe('/from/flag');
    expect(options.listen).toBe('10.0.0.1:2');
    expect(options.log_level).toBe('debug');
  });

  it('repeats --watch and splits RINGTAIL_WATCH on colons', () => {
    const a = loadOptions<AgentConfig>(AgentConfig, [...agentBase, '--watch', '/srv/**/*.log'], {});
    expect(a.options.watch).toEqual(['/tmp/*.log', '/srv/**/*.log']);
    const b = loadOptions<AgentConfig>(AgentConfig, ['--collector', 'http://x', '--token', 'abcdefghij'], { RINGTAIL_WATCH: '/a/*.log:/b/*.log' });
    expect(b.options.watch).toEqual(['/a/*.log', '/b/*.log']);
  });

  it('reads nested sections from the file and flags', () => {
    const cfg = file('nested.json', JSON.stringify({ collector: 'http://h:1', token: 'abcdefghij', watch: ['/x'], batch: { linger_ms: 5 } }));
    const { options } = loadOptions<AgentConfig>(AgentConfig, ['--config', cfg, '--batch-max-lines', '7'], {});
    expect(options.batch).toEqual({ linger_ms: 5, max_lines: 7, max_bytes: 1024 * 1024 });
  });

  it('reports --help without validating', () => {
    expect(loadOptions(AgentConfig, ['--help'], {}).help).toBe(true);
  });
});
