import { CronExpressionParser } from 'cron-parser';
import { parseDuration } from './duration.ts';
import { fail, ok, type Parsed } from './errors.ts';

/**
 * A parsed `Upstash-Cron` value. QStash parses crons with robfig/cron's standard parser (its error
 * `Invalid cron expression empty spec string` is robfig's, github.com/upstash/qstash-js/pull/50),
 * so validation here follows robfig's grammar and error texts field by field; the next fire time
 * is then computed by cron-parser from a normalised, numeric expression with the same meaning.
 */
export type CronSchedule =
  | { kind: 'cron'; expression: string; tz: string }
  | { kind: 'every'; everyMs: number };

type Bounds = { min: number; max: number; names?: Record<string, number> };

const MONTH_NAMES = [
  'jan',
  'feb',
  'mar',
  'apr',
  'may',
  'jun',
  'jul',
  'aug',
  'sep',
  'oct',
  'nov',
  'dec',
];
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

// minute, hour, day of month, month, day of week: robfig's bounds (no 7 for Sunday).
const FIELDS: Bounds[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: Object.fromEntries(MONTH_NAMES.map((name, i) => [name, i + 1])) },
  { min: 0, max: 6, names: Object.fromEntries(DAY_NAMES.map((name, i) => [name, i])) },
];

const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** Parses a cron spec; the error is robfig's text, which QStash prefixes with `Invalid cron expression `. */
export function parseCron(spec: string): Parsed<CronSchedule> {
  if (spec.length === 0) return fail('empty spec string');
  let rest = spec;
  let tz = 'UTC';
  if (rest.startsWith('TZ=') || rest.startsWith('CRON_TZ=')) {
    const space = rest.indexOf(' ');
    const name = rest.slice(rest.indexOf('=') + 1, space === -1 ? undefined : space);
    if (!isTimeZone(name)) return fail(`provided bad location ${name}: unknown time zone ${name}`);
    tz = name;
    rest = space === -1 ? '' : rest.slice(space).trim();
  }
  if (rest.startsWith('@')) {
    if (rest.startsWith('@every ')) {
      const every = parseDuration(rest.slice('@every '.length));
      if (!every.ok) return fail(`failed to parse duration ${rest}: ${every.error}`);
      // robfig rounds @every down to whole seconds, with one second at least.
      return ok({ kind: 'every', everyMs: Math.max(1000, Math.floor(every.value / 1000) * 1000) });
    }
    const expression = DESCRIPTORS[rest];
    if (expression === undefined) return fail(`unrecognized descriptor: ${rest}`);
    return ok({ kind: 'cron', expression, tz });
  }
  const fields = rest.split(/\s+/).filter((field) => field !== '');
  if (fields.length !== 5) {
    return fail(`expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`);
  }
  const normalised: string[] = [];
  for (const [i, field] of fields.entries()) {
    const parsed = parseField(field, FIELDS[i] as Bounds);
    if (!parsed.ok) return parsed;
    normalised.push(parsed.value);
  }
  return ok({ kind: 'cron', expression: normalised.join(' '), tz });
}

/** The first fire time strictly after `afterMs`. */
export function nextFireTime(schedule: CronSchedule, afterMs: number): number {
  if (schedule.kind === 'every') return afterMs + schedule.everyMs;
  const parsed = CronExpressionParser.parse(schedule.expression, {
    currentDate: new Date(afterMs),
    tz: schedule.tz,
  });
  return parsed.next().getTime();
}

function isTimeZone(name: string): boolean {
  if (name === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

// A field is a comma-separated list of ranges: `*`, `?`, `n`, `a-b`, each with an optional `/step`.
function parseField(field: string, bounds: Bounds): Parsed<string> {
  const ranges = field.split(',').filter((range) => range !== '');
  const out: string[] = [];
  for (const range of ranges) {
    const parsed = parseRange(range, bounds);
    if (!parsed.ok) return parsed;
    out.push(parsed.value);
  }
  return ok(out.join(','));
}

function parseRange(expr: string, bounds: Bounds): Parsed<string> {
  const rangeAndStep = expr.split('/');
  const lowAndHigh = (rangeAndStep[0] ?? '').split('-');
  const single = lowAndHigh.length === 1;
  let start: number;
  let end: number;
  let star = false;
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
    start = bounds.min;
    end = bounds.max;
    star = true;
  } else {
    const low = parseIntOrName(lowAndHigh[0] ?? '', bounds.names);
    if (!low.ok) return low;
    start = low.value;
    end = start;
    if (lowAndHigh.length === 2) {
      const high = parseIntOrName(lowAndHigh[1] ?? '', bounds.names);
      if (!high.ok) return high;
      end = high.value;
    } else if (lowAndHigh.length > 2) return fail(`too many hyphens: ${expr}`);
  }
  let step = 1;
  if (rangeAndStep.length === 2) {
    const parsed = parseNonNegative(rangeAndStep[1] ?? '');
    if (!parsed.ok) return parsed;
    step = parsed.value;
    // robfig reads `n/step` as `n-max/step`.
    if (single) end = bounds.max;
  } else if (rangeAndStep.length > 2) return fail(`too many slashes: ${expr}`);
  if (start < bounds.min) {
    return fail(`beginning of range (${start}) below minimum (${bounds.min}): ${expr}`);
  }
  if (end > bounds.max) return fail(`end of range (${end}) above maximum (${bounds.max}): ${expr}`);
  if (start > end) {
    return fail(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  }
  if (step === 0) return fail(`step of range should be a positive number: ${expr}`);
  if (star) return ok(step === 1 ? '*' : `*/${step}`);
  const span = start === end ? `${start}` : `${start}-${end}`;
  return ok(step === 1 ? span : `${start}-${end}/${step}`);
}

function parseIntOrName(text: string, names: Record<string, number> | undefined): Parsed<number> {
  const named = names?.[text.toLowerCase()];
  return named === undefined ? parseNonNegative(text) : ok(named);
}

function parseNonNegative(text: string): Parsed<number> {
  if (!/^[+-]?\d+$/.test(text)) {
    return fail(
      `failed to parse int from ${text}: strconv.Atoi: parsing "${text}": invalid syntax`,
    );
  }
  const value = Number(text);
  if (value < 0) return fail(`negative number (${value}) not allowed: ${text}`);
  return ok(value);
}
