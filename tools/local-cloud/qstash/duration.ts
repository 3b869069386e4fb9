import { fail, goQuote, ok, type Parsed } from './errors.ts';

// QStash parses `Upstash-Delay` and `Upstash-Timeout` with Go's `time.ParseDuration` plus a `d`
// unit, and echoes Go's error text: `invalid Upstash-Delay header: time: missing unit in
// duration "1"` (github.com/upstash/qstash-js/pull/9).
const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** Parses a Go duration such as `1d10h30m` or `1.5s` into milliseconds. */
export function parseDuration(input: string): Parsed<number> {
  const invalid = fail<number>(`time: invalid duration ${goQuote(input)}`);
  let rest = input;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest.startsWith('-')) sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return ok(0);
  if (rest === '') return invalid;
  let total = 0;
  while (rest !== '') {
    const number = /^(\d*)(?:\.(\d*))?/.exec(rest);
    const whole = number?.[1] ?? '';
    const fraction = number?.[2];
    if (whole === '' && (fraction === undefined || fraction === '')) return invalid;
    rest = rest.slice(number?.[0].length ?? 0);
    const unit = /^[^.0-9]*/.exec(rest)?.[0] ?? '';
    if (unit === '') return fail(`time: missing unit in duration ${goQuote(input)}`);
    const scale = UNIT_MS[unit];
    if (scale === undefined) {
      return fail(`time: unknown unit ${goQuote(unit)} in duration ${goQuote(input)}`);
    }
    total += Number(`${whole || '0'}.${fraction || '0'}`) * scale;
    rest = rest.slice(unit.length);
  }
  return ok(sign * total);
}
