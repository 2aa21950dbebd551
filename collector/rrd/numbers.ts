// Number parsing and printing as rrdtool does it in C: strtod's longest numeric prefix,
// rrd_diff's exact decimal subtraction for COUNTER/DERIVE, and printf's "%0.10e".

const STRTOD = /^[ \t\n\r\f\v]*[+-]?(?:0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?\d+)?|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan(?:\([0-9A-Za-z_]*\))?)/i;

/** strtod: the value of the longest numeric prefix and what is left; undefined when there is none. */
export function strtod(s: string): { value: number; rest: string } | undefined {
  const m = STRTOD.exec(s);
  if (!m) return undefined;
  const text = m[0].trim();
  let value: number;
  const lower = text.toLowerCase().replace(/^[+]/, '');
  const neg = lower.startsWith('-');
  const body = neg ? lower.slice(1) : lower;
  if (body.startsWith('inf')) value = Infinity;
  else if (body.startsWith('nan')) value = NaN;
  else if (body.startsWith('0x')) value = parseHexFloat(body.slice(2));
  else value = Number(body);
  return { value: neg ? -value : value, rest: s.slice(m[0].length) };
}

function parseHexFloat(s: string): number {
  const [mant = '', exp] = s.split(/[pP]/);
  const [int = '', frac = ''] = mant.split('.');
  let v = 0;
  for (const c of int) v = v * 16 + parseInt(c, 16);
  let scale = 1 / 16;
  for (const c of frac) {
    v += parseInt(c, 16) * scale;
    scale /= 16;
  }
  return exp === undefined ? v : v * 2 ** Number(exp);
}

/** rrdtool's "%f" of a converted prefix, for its "Converted 'x' to …" message. */
export function cFixed6(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  return v.toFixed(6);
}

const LAST_DS_LEN = 30;

/**
 * rrd_diff: a − b on the decimal digits of two integer strings (so 64-bit counters keep every
 * digit), NaN when either has no digits, when their signs differ, or when too long.
 */
export function rrdDiff(a: string, b: string): number {
  const pa = digitsOf(a);
  const pb = digitsOf(b);
  if (!pa || !pb) return NaN;
  if (pa.neg !== pb.neg) return NaN;
  if (Math.max(pa.digits.length, pb.digits.length) > LAST_DS_LEN) return NaN;
  const d = Number(BigInt(pa.digits) - BigInt(pb.digits));
  return pa.neg ? -d : d;
}

function digitsOf(s: string): { neg: boolean; digits: string } | undefined {
  let i = 0;
  let neg = false;
  while (i < s.length && !(s[i]! >= '0' && s[i]! <= '9')) {
    if (s[i] === '-') neg = true;
    i++;
  }
  let j = i;
  while (j < s.length && s[j]! >= '0' && s[j]! <= '9') j++;
  if (j === i) return undefined;
  return { neg, digits: s.slice(i, j) };
}

/** C's "%0.10e" (glibc): mantissa with 10 decimals, exponent with sign and at least two digits. */
export function cExp10(v: number): string {
  if (Number.isNaN(v)) return '-nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  const neg = v < 0 || Object.is(v, -0);
  const s = exactExp(Math.abs(v), 10);
  return (neg ? '-' : '') + s;
}

/** Correctly rounded (half to even on the exact binary value, as glibc) d.dddde±XX. */
function exactExp(x: number, digits: number): string {
  if (x === 0) return `0.${'0'.repeat(digits)}e+00`;
  let s = x.toExponential(digits);
  // toExponential rounds ties away from zero; glibc rounds the exact value half to even.
  // A tie is only possible when the exact expansion ends right after the 5: check exactly.
  const longer = exactDecimal(x);
  if (longer) {
    const { digits: all, exp } = longer;
    if (all.length === digits + 2 && all.endsWith('5')) {
      const kept = all.slice(0, digits + 1);
      const lastKept = Number(kept[kept.length - 1]);
      if (lastKept % 2 === 0) s = `${kept[0]}.${kept.slice(1)}e${exp >= 0 ? '+' : '-'}${Math.abs(exp)}`;
    }
  }
  const m = /^(.*)e([+-])(\d+)$/.exec(s)!;
  return `${m[1]}e${m[2]}${m[3]!.padStart(2, '0')}`;
}

/** Exact decimal digits of a positive double when short (≤ 17 significant), else undefined. */
function exactDecimal(x: number): { digits: string; exp: number } | undefined {
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, x);
  const hi = buf.getUint32(0);
  const lo = buf.getUint32(4);
  const e = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp2: number;
  if (e === 0) exp2 = -1074;
  else {
    mant |= 1n << 52n;
    exp2 = e - 1075;
  }
  let digits: string;
  let exp10: number;
  if (exp2 >= 0) {
    digits = (mant << BigInt(exp2)).toString();
    exp10 = digits.length - 1;
  } else {
    // mant / 2^-exp2 = mant * 5^-exp2 / 10^-exp2
    const n = mant * 5n ** BigInt(-exp2);
    const str = n.toString();
    exp10 = str.length - 1 + exp2;
    digits = str;
  }
  digits = digits.replace(/0+$/, '');
  if (digits.length > 17) return undefined;
  return { digits, exp: exp10 };
}
