import { z } from 'zod';
import { editDistance } from './text/typo.ts';

/**
 * The one error map of the API: every zod rule a schema does not word itself reads as a short
 * human rule (`must have at least 1 item`, `must be at most 200 characters`, `must be one of: a,
 * b`, `unknown field; accepted: a, b`), never zod's own English (`Too small: expected array to
 * have >=1 items`). A schema's own message (`.min(1, 'must not be empty')`, `{ error }`) still
 * wins: this only replaces zod's defaults. The field itself is named by the path the validation
 * hook puts in front (`body.tags: must have at most 50 items`).
 */
export function issueMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      return typeMessage(issue.expected, issue.input);
    case 'invalid_value':
      return issue.values.length === 1
        ? `must be ${literal(issue.values[0])}`
        : `must be one of: ${issue.values.map(literal).join(', ')}`;
    case 'too_big':
      return sizeMessage('at most', 'less than', issue.origin, issue.maximum, issue);
    case 'too_small':
      return issue.origin === 'string' && Number(issue.minimum) === 1 && !issue.exact
        ? 'must not be empty'
        : sizeMessage('at least', 'more than', issue.origin, issue.minimum, issue);
    case 'invalid_format':
      return formatMessage(issue);
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}`;
    case 'unrecognized_keys':
      return unknownKeyMessage(
        issue.keys.length === 1 ? issue.keys[0] : undefined,
        acceptedKeys(issue.inst),
      );
    case 'invalid_key':
      return `has an invalid name: ${issue.issues[0]?.message ?? 'is invalid'}`;
    case 'invalid_element':
      return `has an invalid entry: ${issue.issues[0]?.message ?? 'is invalid'}`;
    case 'invalid_union':
      return unionMessage(issue.errors);
    default:
      return 'is invalid';
  }
}

/** Applies {@link issueMessage} to every parse in this isolate; idempotent. */
export function useHumanErrorMessages(): void {
  z.config({ customError: issueMessage });
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  bigint: 'an integer',
  boolean: 'a boolean (true or false)',
  object: 'an object',
  array: 'an array',
  date: 'a date',
  null: 'null',
  record: 'an object',
  map: 'an object',
  set: 'an array',
  tuple: 'an array',
  file: 'a file',
};

/** What a JSON value is, in the words of {@link TYPE_NAMES}. */
function kindOf(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'an array';
  if (typeof input === 'number') return Number.isNaN(input) ? 'not a number' : 'a number';
  return TYPE_NAMES[typeof input] ?? typeof input;
}

function typeMessage(expected: string, input: unknown): string {
  if (input === undefined) return 'is required';
  if (input === null) return 'must not be null';
  const wanted = TYPE_NAMES[expected] ?? expected;
  const got = kindOf(input);
  // `1.5` for an integer is a number all the same; NaN is what a failed coercion leaves.
  if (got === 'not a number' || (got === 'a number' && expected === 'int'))
    return `must be ${wanted}`;
  return `must be ${wanted}, not ${got}`;
}

const UNITS: Record<string, [string, string]> = {
  string: ['character', 'characters'],
  array: ['item', 'items'],
  set: ['item', 'items'],
  map: ['entry', 'entries'],
  file: ['byte', 'bytes'],
};

function sizeMessage(
  inclusiveWord: string,
  exclusiveWord: string,
  origin: string,
  limit: number | bigint | Date,
  issue: { inclusive?: boolean; exact?: boolean },
): string {
  const n = limit instanceof Date ? limit.toISOString() : limit;
  const unit = UNITS[origin];
  if (unit) {
    const words = Number(n) === 1 ? unit[0] : unit[1];
    const amount = typeof n === 'string' ? n : n.toLocaleString('en-US');
    if (issue.exact) return `must have exactly ${amount} ${words}`;
    return origin === 'string'
      ? `must be ${inclusiveWord} ${amount} ${words}`
      : `must have ${inclusiveWord} ${amount} ${words}`;
  }
  if (issue.exact) return `must be exactly ${n}`;
  return `must be ${issue.inclusive === false ? exclusiveWord : inclusiveWord} ${n}`;
}

const FORMATS: Record<string, string> = {
  datetime: 'an RFC 3339 date-time such as 2025-01-01T12:00:00Z',
  date: 'a date such as 2025-01-01',
  time: 'a time such as 12:00:00',
  duration: 'an ISO 8601 duration such as P1D',
  email: 'an e-mail address',
  url: 'a URL',
  uuid: 'a UUID',
  ipv4: 'an IPv4 address',
  ipv6: 'an IPv6 address',
  cidrv4: 'an IPv4 range (CIDR)',
  cidrv6: 'an IPv6 range (CIDR)',
  base64: 'base64',
  base64url: 'base64url',
  jwt: 'a JWT',
};

function formatMessage(issue: z.core.$ZodRawIssue<z.core.$ZodIssueInvalidStringFormat>): string {
  switch (issue.format) {
    case 'starts_with':
      return `must start with "${(issue as { prefix?: string }).prefix}"`;
    case 'ends_with':
      return `must end with "${(issue as { suffix?: string }).suffix}"`;
    case 'includes':
      return `must include "${(issue as { includes?: string }).includes}"`;
    case 'regex':
      return `must match the pattern ${issue.pattern ?? ''}`.trimEnd();
    default:
      return `must be ${FORMATS[issue.format] ?? `a valid ${issue.format}`}`;
  }
}

/** The keys an object schema declares, for the `unknown field` message. */
function acceptedKeys(inst: unknown): string[] {
  const def = (inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod
    ?.def;
  return def?.shape ? Object.keys(def.shape) : [];
}

/**
 * The accepted name `key` was most likely meant to be: one edit away (`limt` → `limit`, `tag` →
 * `tags`), else one name's words inside the other's (`next_cursor` → `cursor`, `actor` →
 * `actor_type`), else two edits away (`lmiit` → `limit`), for names long enough to tell.
 */
export function closestName(key: string, accepted: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const within = (edits: number) =>
    accepted.find((name) => name.length > 2 * edits && editDistance(lower, name, edits) <= edits);
  const words = (text: string) => text.split(/[^a-z0-9]+/).filter(Boolean);
  const same = (a: string, b: string) => a === b || a === `${b}s` || b === `${a}s`;
  const keyWords = words(lower);
  const sharesWords = () =>
    accepted.find((name) => {
      const nameWords = words(name);
      const [few, many] =
        nameWords.length <= keyWords.length ? [nameWords, keyWords] : [keyWords, nameWords];
      return few.length > 0 && few.every((w) => many.some((v) => same(v, w)));
    });
  return within(1) ?? sharesWords() ?? within(2);
}

/**
 * The rule an unknown name breaks: `unknown field (did you mean cursor?); accepted: limit,
 * cursor`. The validation hook says `unknown parameter` for a query string. Without a `key`
 * (several unknown at once) there is no suggestion.
 */
export function unknownKeyMessage(key: string | undefined, accepted: readonly string[]): string {
  const guess = key === undefined ? undefined : closestName(key, accepted);
  const hint = guess ? ` (did you mean ${guess}?)` : '';
  return `unknown field${hint}; accepted: ${accepted.length > 0 ? accepted.join(', ') : 'none'}`;
}

/**
 * A union refused by every branch: when each branch refused the value's type, the types it may
 * have (`must be a string, a number or a boolean`); otherwise the first branch's rule.
 */
function unionMessage(errors: readonly (readonly z.core.$ZodIssue[])[]): string {
  const expected = errors.map((branch) =>
    branch.length === 1 && branch[0]!.code === 'invalid_type' && branch[0]!.path.length === 0
      ? (TYPE_NAMES[branch[0]!.expected] ?? branch[0]!.expected)
      : undefined,
  );
  if (expected.length > 0 && expected.every((e) => e !== undefined)) {
    const names = [...new Set(expected)];
    const last = names.pop()!;
    return `must be ${names.length > 0 ? `${names.join(', ')} or ${last}` : last}`;
  }
  const first = errors.find((branch) => branch.length > 0)?.[0];
  return first ? first.message : 'does not match any accepted form';
}

function literal(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
}
