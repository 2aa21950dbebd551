// One loader for every subcommand: a TypeBox schema declares each option once (type, default,
// description); flags (--data-dir), environment variables (RINGTAIL_DATA_DIR) and the optional
// JSON config file are all derived from it, merged file < env < flags, then validated as a whole.
import { readFileSync } from 'node:fs';
import { Kind, type TObject, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ConfigError } from '../shared/errors.js';

export interface OptionSpec {
  /** dotted path in the config object, e.g. `spool.max_bytes` */
  path: string;
  flag: string;
  env: string;
  schema: TSchema;
}

export function flagFor(path: string): string {
  return '--' + path.replace(/[._]/g, '-');
}
export function envFor(path: string): string {
  return 'RINGTAIL_' + path.replace(/[.-]/g, '_').toUpperCase();
}

/** Leaves of the schema, nested objects flattened into dotted paths. */
export function optionSpecs(schema: TObject, prefix = ''): OptionSpec[] {
  const out: OptionSpec[] = [];
  for (const [key, sub] of Object.entries(schema.properties)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (sub[Kind] === 'Object' && !sub.patternProperties) {
      out.push(...optionSpecs(sub as TObject, path));
    } else {
      out.push({ path, flag: flagFor(path), env: envFor(path), schema: sub });
    }
  }
  return out;
}

function isArray(s: TSchema): boolean {
  return s[Kind] === 'Array';
}
function isBoolean(s: TSchema): boolean {
  return s[Kind] === 'Boolean';
}

function coerce(spec: OptionSpec, raw: string, origin: string): unknown {
  const kind = isArray(spec.schema) ? (spec.schema as unknown as { items: TSchema }).items[Kind] : spec.schema[Kind];
  if (kind === 'Integer' || kind === 'Number') {
    if (raw.trim() === '' || !Number.isFinite(Number(raw))) {
      throw new ConfigError(origin, `expected a number, got '${raw}'`);
    }
    return Number(raw);
  }
  if (kind === 'Boolean') {
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    throw new ConfigError(origin, `expected true or false, got '${raw}'`);
  }
  return raw;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur = target;
  for (const part of parts.slice(0, -1)) {
    if (typeof cur[part] !== 'object' || cur[part] === null) cur[part] = {};
    cur = cur[part] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]!] = value;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError('--config', `cannot read '${file}': ${code}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError('--config', `'${file}' is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError('--config', `'${file}' must hold a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

export interface ParsedOptions<T> {
  options: T;
  help: boolean;
}

/**
 * Builds the options of one subcommand. Throws ConfigError naming the flag, variable or
 * config key at fault; never prints or exits itself.
 */
export function loadOptions<T>(
  schema: TObject,
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): ParsedOptions<T> {
  const specs = optionSpecs(schema);
  const byFlag = new Map(specs.map((s) => [s.flag, s]));
  const fromFlags: Array<[OptionSpec, unknown, string]> = [];
  let configFile = env.RINGTAIL_CONFIG;
  let help = false;

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('--')) throw new ConfigError(arg, 'unexpected argument');
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    let value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : undefined;
    if (name === '--config') {
      value ??= argv[++i];
      if (value === undefined) throw new ConfigError('--config', 'needs a file path');
      configFile = value;
      continue;
    }
    const negated = name.startsWith('--no-') ? byFlag.get('--' + name.slice(5)) : undefined;
    if (negated && isBoolean(negated.schema) && value === undefined) {
      fromFlags.push([negated, false, name]);
      continue;
    }
    const spec = byFlag.get(name);
    if (!spec) throw new ConfigError(name, 'unknown flag (see --help)');
    if (isBoolean(spec.schema) && value === undefined) {
      fromFlags.push([spec, true, name]);
      continue;
    }
    value ??= argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith('--'))) {
      throw new ConfigError(name, 'needs a value');
    }
    fromFlags.push([spec, coerce(spec, value, name), name]);
  }

  const merged: Record<string, unknown> = configFile ? readConfigFile(configFile) : {};
  for (const spec of specs) {
    const raw = env[spec.env];
    if (raw === undefined || raw === '') continue;
    const value = isArray(spec.schema)
      ? raw.split(':').filter(Boolean).map((part) => coerce(spec, part, spec.env))
      : coerce(spec, raw, spec.env);
    setPath(merged, spec.path, value);
  }
  const repeated = new Map<string, unknown[]>();
  for (const [spec, value] of fromFlags) {
    if (isArray(spec.schema)) {
      const list = repeated.get(spec.path) ?? [];
      list.push(value);
      repeated.set(spec.path, list);
      setPath(merged, spec.path, list);
    } else {
      setPath(merged, spec.path, value);
    }
  }

  const withDefaults = Value.Default(schema, merged) as Record<string, unknown>;
  if (help) return { options: withDefaults as T, help };
  const first = Value.Errors(schema, withDefaults).First();
  if (first) {
    const path = first.path.replace(/^\//, '').replace(/\//g, '.');
    const spec = specs.find((s) => path === s.path || path.startsWith(s.path + '.'));
    if (!spec) {
      // Only an unknown key can fail outside every declared option.
      const unknown = first.message.startsWith('Unexpected property');
      throw new ConfigError(`config key '${path}'`, unknown ? 'unknown key' : first.message);
    }
    const hint = (first.schema as { errorMessage?: string }).errorMessage;
    const problem = first.value === undefined ? 'is required' : `${hint ?? first.message}, got ${JSON.stringify(first.value)}`;
    throw new ConfigError(spec.flag, problem);
  }
  return { options: withDefaults as T, help };
}

/** Help text generated from the same schema, so it can never drift from what is accepted. */
export function helpText(usage: string, summary: string, schema: TObject): string {
  const lines = [`Usage: ${usage}`, '', summary, '', 'Options:'];
  for (const spec of optionSpecs(schema)) {
    const def = (spec.schema as { default?: unknown }).default;
    const desc = (spec.schema as { description?: string }).description ?? '';
    const repeat = isArray(spec.schema) ? ' (repeatable)' : '';
    lines.push(`  ${spec.flag.padEnd(24)} ${desc}${repeat}`);
    lines.push(`  ${''.padEnd(24)} env ${spec.env}${def !== undefined ? `, default ${JSON.stringify(def)}` : ''}`);
  }
  lines.push(`  ${'--config FILE'.padEnd(24)} JSON file with the same keys (env RINGTAIL_CONFIG)`);
  lines.push(`  ${'--help'.padEnd(24)} this text`);
  return lines.join('\n') + '\n';
}
