import { E, fail } from './errors.ts';

/*
 * Number parsing and formatting with Redis' rules: `string2ll` for integers (no sign '+', no
 * leading zeros, no spaces), `strtod` with Redis' extra checks for floats, and `%.17g` for the
 * doubles Redis prints (scores, Lua numbers passed to commands).
 */

const INTEGER = /^(?:0|-?[1-9][0-9]{0,19})$/;
const MAX = 9223372036854775807n;
const MIN = -9223372036854775808n;

/** A 64-bit integer as a bigint, or `undefined` when `s` is not one by Redis' rules. */
export function parseBigInt(s: string): bigint | undefined {
  if (!INTEGER.test(s)) return undefined;
  const n = BigInt(s);
  return n > MAX || n < MIN ? undefined : n;
}

/**
 * A 64-bit integer as a JS number (exact up to 2^53, which is all a range, count or TTL needs),
 * or `undefined`.
 */
export function parseInteger(s: string): number | undefined {
  if (s.length < 16) return INTEGER.test(s) ? Number(s) : undefined;
  const n = parseBigInt(s);
  return n === undefined ? undefined : Number(n);
}

/** An integer argument or the standard error. */
export function intArg(s: string, message: string = E.notInteger): number {
  const n = parseInteger(s);
  return n === undefined ? fail(message) : n;
}

const DECIMAL = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const INFINITY = /^([+-]?)inf(?:inity)?$/i;
const HEX = /^([+-]?)0[xX]([0-9a-fA-F]+)$/;

/**
 * `strtod` plus Redis' checks (`getDoubleFromObject`): the whole string must be consumed, no
 * leading space, no NaN, no overflow to ±HUGE_VAL and no underflow of a non-zero literal to zero.
 * C's hexadecimal floats with a binary exponent are not accepted (they never come up in practice).
 */
export function parseFloatStrict(s: string): number | undefined {
  if (DECIMAL.test(s)) {
    const n = Number(s);
    if (!Number.isFinite(n)) return undefined;
    if (n === 0 && /[1-9]/.test(s.replace(/[eE].*$/, ''))) return undefined;
    return n;
  }
  const inf = INFINITY.exec(s);
  if (inf) return inf[1] === '-' ? -Infinity : Infinity;
  const hex = HEX.exec(s);
  if (hex) {
    const n = Number.parseInt(hex[2] as string, 16);
    return hex[1] === '-' ? -n : n;
  }
  return undefined;
}

export function floatArg(s: string, message: string = E.notFloat): number {
  const n = parseFloatStrict(s);
  return n === undefined ? fail(message) : n;
}

/** C's `%.<precision>g`. */
export function formatG(d: number, precision: number): string {
  if (Number.isNaN(d)) return 'nan';
  if (!Number.isFinite(d)) return d > 0 ? 'inf' : '-inf';
  if (d === 0) return Object.is(d, -0) ? '-0' : '0';
  const [mantissa, e] = d.toExponential(precision - 1).split('e') as [string, string];
  const exponent = Number(e);
  if (exponent < -4 || exponent >= precision) {
    const m = mantissa.includes('.') ? mantissa.replace(/\.?0+$/, '') : mantissa;
    const sign = exponent < 0 ? '-' : '+';
    return `${m}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  const fixed = d.toFixed(Math.max(0, precision - 1 - exponent));
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}

/** C's `%.17g`. */
export const formatG17 = (d: number) => formatG(d, 17);

/**
 * Redis' `d2string` (7.0): integral values within ±2^52 print as integers, the rest as `%.17g`.
 * Used for sorted-set scores and for Lua numbers passed to `redis.call`.
 */
export function formatDouble(d: number): string {
  if (Number.isInteger(d) && d > -4503599627370495 && d < 4503599627370496) {
    return Object.is(d, -0) ? '-0' : String(d);
  }
  return formatG17(d);
}

/**
 * What `INCRBYFLOAT` stores. Redis computes in `long double` and prints `%.17Lf` with trailing
 * zeros removed; with doubles the closest match is the shortest round-trip representation in
 * plain (never exponential) notation. Results that need more than double precision differ.
 */
export function formatLongDouble(d: number): string {
  if (Number.isInteger(d)) return Object.is(d, -0) ? '-0' : BigInt(d).toString();
  const s = String(d);
  if (!s.includes('e')) return s;
  // Small magnitudes: expand the exponent into a plain decimal.
  const [mantissa, e] = s.split('e') as [string, string];
  const exponent = Number(e);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const point =
    (mantissa.replace('-', '').indexOf('.') + 1 || mantissa.replace('-', '').length + 1) - 1;
  const at = point + exponent;
  let out: string;
  if (at <= 0) out = `0.${'0'.repeat(-at)}${digits}`;
  else if (at >= digits.length) out = digits + '0'.repeat(at - digits.length);
  else out = `${digits.slice(0, at)}.${digits.slice(at)}`;
  // %.17Lf keeps 17 decimals: anything below 1e-17 rounds away.
  const [int, frac = ''] = out.split('.') as [string, string?];
  const kept = frac.slice(0, 17).replace(/0+$/, '');
  out = kept ? `${int}.${kept}` : (int as string);
  return negative && out !== '0' ? `-${out}` : out;
}

/** Lua-number to integer reply: C's `(long long)` cast, saturating as x86 does. */
export function toLongLong(d: number): number | bigint {
  if (!Number.isFinite(d) || d >= 2 ** 63 || d < -(2 ** 63)) {
    return -9223372036854775808n;
  }
  const t = Math.trunc(d);
  return Number.isSafeInteger(t) ? (Object.is(t, -0) ? 0 : t) : BigInt(t);
}
