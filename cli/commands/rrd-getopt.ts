// rrdtool's option parsing (getopt_long) for `ringtail rrd`, on either store.
import { RrdError } from '../../collector/rrd/errors.js';

/** getopt_long-style: options anywhere, `--opt=v`, `--opt v`, `-o v`, `-ov`; the rest positional. */
export function getopt(argv: string[], spec: Record<string, { short?: string; arg: boolean }>): { opts: Map<string, string>; rest: string[] } {
  const opts = new Map<string, string>();
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      rest.push(...argv.slice(i + 1));
      break;
    }
    let name: string | undefined;
    let value: string | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (eq > 0) value = a.slice(eq + 1);
      if (!spec[name]) throw new RrdError(`unrecognized option '${a}'`);
    } else if (a.startsWith('-') && a.length > 1 && !/^-\d/.test(a)) {
      const short = a[1]!;
      name = Object.keys(spec).find((k) => spec[k]!.short === short);
      if (!name) throw new RrdError(`invalid option -- '${short}'`);
      if (a.length > 2) value = a.slice(2);
    } else {
      rest.push(a);
      continue;
    }
    if (spec[name]!.arg) {
      if (value === undefined) {
        value = argv[++i];
        if (value === undefined) throw new RrdError(`option '${a}' requires an argument`);
      }
      opts.set(name, value);
    } else opts.set(name, '');
  }
  return { opts, rest };
}
