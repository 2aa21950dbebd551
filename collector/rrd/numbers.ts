// Number parsing and printing as rrdtool 1.7 does it in C: its own rrd_strtod, rrd_diff's
// decimal subtraction for COUNTER/DERIVE, and glibc printf's "%0.10e".

/**
 * rrdtool 1.7's own strtod (rrd_strtod): digits accumulated in a double, then scaled by
 * powers of ten. It is not correctly rounded, and rrdtool parses every reading, bound and
 * counter difference with it, so ringtail must too to agree to the last bit (a 64-bit counter
 * wrap differs by thousands otherwise). No inf, nan or hex forms. Undefined when nothing converts.
 */
export function strtod(s: string): { value: number; rest: string } | undefined {
  const value = strtodIn(s, 0, s.length);
  if (stoppedAt < 0) return undefined;
  return { value, rest: stoppedAt < s.length ? s.slice(stoppedAt) : '' };
}

let stoppedAt = 0;

/** Where the last strtodIn stopped: the index after what it converted, −1 when nothing converted. */
export function strtodStop(): number {
  return stoppedAt;
}

/**
 * strtod on s[from, to) without allocating (the journal's replay parses every reading): the
 * value, with strtodStop() telling where the conversion ended (−1: nothing converted, the value
 * is then meaningless).
 */
export function strtodIn(s: string, from: number, to: number): number {
  const len = to;
  let p = from;
  let c = p < len ? s.charCodeAt(p) : 0;
  while (c === 32 || (c >= 9 && c <= 13)) c = ++p < len ? s.charCodeAt(p) : 0;
  let negative = false;
  if (c === 45 || c === 43) {
    negative = c === 45;
    c = ++p < len ? s.charCodeAt(p) : 0;
  }
  let number = 0;
  let exponent = 0;
  let digits = 0;
  while (c >= 48 && c <= 57) {
    number = number * 10 + (c - 48);
    digits++;
    c = ++p < len ? s.charCodeAt(p) : 0;
  }
  if (c === 46) {
    c = ++p < len ? s.charCodeAt(p) : 0;
    let decimals = 0;
    while (c >= 48 && c <= 57) {
      number = number * 10 + (c - 48);
      digits++;
      decimals++;
      c = ++p < len ? s.charCodeAt(p) : 0;
    }
    exponent -= decimals;
  }
  stoppedAt = -1;
  if (digits === 0) return NaN;
  if (negative) number = -number;
  if (c === 101 || c === 69) {
    c = ++p < len ? s.charCodeAt(p) : 0;
    let eneg = false;
    if (c === 45 || c === 43) {
      eneg = c === 45;
      c = ++p < len ? s.charCodeAt(p) : 0;
    }
    let n = 0;
    while (c >= 48 && c <= 57) {
      n = (n * 10 + (c - 48)) | 0;
      c = ++p < len ? s.charCodeAt(p) : 0;
    }
    exponent += eneg ? -n : n;
  }
  if (exponent < -1021 || exponent > 1024) return NaN;
  let p10 = 10;
  let n = exponent < 0 ? -exponent : exponent;
  while (n) {
    if (n & 1) number = exponent < 0 ? number / p10 : number * p10;
    n >>= 1;
    p10 *= p10;
  }
  stoppedAt = p < len ? p : len;
  return number;
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
  // rrd_diff subtracts exactly on the digits, then converts the decimal result with rrd_strtod.
  const diff = BigInt(pa.digits) - BigInt(pb.digits);
  const mag = strtod((diff < 0n ? -diff : diff).toString())!.value;
  const d = diff < 0n ? -mag : mag;
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
