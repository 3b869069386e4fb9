/**
 * The rule language of feature flags: the shapes a flag's definition takes (stored as JSON in
 * Postgres, cached as JSON in KV, returned as JSON by the API, so one snake_case shape throughout)
 * and how one condition matches an evaluation context. Pure; {@link ./evaluate.ts} applies them.
 */

export const FLAG_TYPES = ['boolean', 'string', 'number', 'json'] as const;
export type FlagType = (typeof FLAG_TYPES)[number];

/** Operators on one attribute. Numeric ones need numbers; `semver_*` ones semantic versions. */
export const OPERATORS = [
  'equals',
  'not_equals',
  'in',
  'not_in',
  'lt',
  'lte',
  'gt',
  'gte',
  'semver_eq',
  'semver_lt',
  'semver_lte',
  'semver_gt',
  'semver_gte',
  'matches',
] as const;
export type Operator = (typeof OPERATORS)[number];

export const NUMERIC_OPERATORS: readonly Operator[] = ['lt', 'lte', 'gt', 'gte'];
export const SEMVER_OPERATORS: readonly Operator[] = [
  'semver_eq',
  'semver_lt',
  'semver_lte',
  'semver_gt',
  'semver_gte',
];
export const LIST_OPERATORS: readonly Operator[] = ['in', 'not_in'];

export type Scalar = string | number | boolean;
export type Condition = { attribute: string; operator: Operator; value: Scalar | Scalar[] };

export type Variant = { key: string; value: unknown };
export type SplitEntry = { variant: string; weight: number };

/**
 * One targeting rule: when every condition holds (none: always), it serves exactly one of a fixed
 * `variant`, a `rollout` (`percent` of targeting keys get `variant`, the rest fall through to the
 * next rule) or a `split` (every key gets one of the variants by weight). `salt` overrides the
 * flag's salt for this rule's bucketing, to decorrelate it from the flag's other rules.
 */
export type Rule = {
  description?: string | undefined;
  conditions: Condition[];
  variant?: string | undefined;
  rollout?: { variant: string; percent: number } | undefined;
  split?: SplitEntry[] | undefined;
  salt?: string | undefined;
};

/** Targeting keys pinned to a variant (an allow-list). */
export type AllowList = { variant: string; keys: string[] };

/** What evaluation needs of a flag: its definition as stored, plus its salt. */
export type FlagDefinition = {
  key: string;
  type: FlagType;
  variants: Variant[];
  default_variant: string;
  rules: Rule[];
  allow: AllowList[];
  /** Targeting keys that always get the default variant, whatever the rules say. */
  deny: string[];
  /** When on, every evaluation gets the default variant (reason `DISABLED`), before anything. */
  kill_switch: boolean;
  salt: string;
};

/** An attribute value of an evaluation context; anything else never matches a condition. */
export type AttributeValue = string | number | boolean | string[];

/** The evaluation context: OpenFeature's `targetingKey` and flat attributes. */
export type EvaluationContext = { targetingKey?: string | undefined } & Record<string, unknown>;

// --- Regular expressions -----------------------------------------------------------------------

/** Longest pattern accepted, and longest attribute value a pattern is tried on. */
export const REGEX_LIMITS = { pattern: 256, input: 1024 } as const;

/**
 * Why `pattern` is refused, or undefined when it is accepted. JavaScript's engine backtracks, so
 * patterns that can backtrack exponentially are refused up front: backreferences (`\1`, `\k<n>`),
 * lookarounds (`(?=`, `(?!`, `(?<=`, `(?<!`), and a quantified group that itself contains a
 * quantifier or an alternation (`(a+)+`, `(a|aa)*`). With patterns at most 256 characters and
 * inputs at most 1,024 (a longer value never matches), what remains runs in bounded time.
 */
export function regexProblem(pattern: string): string | undefined {
  if (pattern.length > REGEX_LIMITS.pattern) {
    return `must be at most ${REGEX_LIMITS.pattern} characters`;
  }
  try {
    new RegExp(pattern, 'u');
  } catch {
    return 'must be a valid regular expression (JavaScript, Unicode mode)';
  }
  if (/\\[1-9]|\\k</.test(pattern)) return 'must not use backreferences';
  if (/\(\?<?[=!]/.test(pattern)) return 'must not use lookahead or lookbehind';
  // Walk groups: a group's "risky" content (a quantifier or `|`) followed by a quantifier.
  const stack: boolean[] = [];
  let risky = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\') {
      i++;
      continue;
    }
    if (ch === '[') {
      // Skip a character class: quantifiers inside it are literals.
      i++;
      while (i < pattern.length && pattern[i] !== ']') i += pattern[i] === '\\' ? 2 : 1;
      continue;
    }
    if (ch === '(') {
      stack.push(risky);
      risky = false;
    } else if (ch === ')') {
      const inner = risky;
      risky = stack.pop() ?? false;
      if (inner && isQuantifier(pattern, i + 1)) {
        return 'must not repeat a group that contains a quantifier or an alternation';
      }
      if (inner || isQuantifier(pattern, i + 1)) risky = true;
    } else if (ch === '|' || isQuantifier(pattern, i)) {
      risky = true;
    }
  }
  return undefined;
}

function isQuantifier(pattern: string, at: number): boolean {
  const ch = pattern[at];
  return (
    ch === '*' ||
    ch === '+' ||
    ch === '?' ||
    (ch === '{' && /^\{\d+(,\d*)?\}/.test(pattern.slice(at)))
  );
}

/** Compiled patterns by source, for the isolate's life (patterns are validated on write). */
const compiled = new Map<string, RegExp>();

function regex(pattern: string): RegExp | undefined {
  let re = compiled.get(pattern);
  if (re === undefined) {
    if (regexProblem(pattern) !== undefined) return undefined;
    re = new RegExp(pattern, 'u');
    if (compiled.size > 1000) compiled.clear();
    compiled.set(pattern, re);
  }
  return re;
}

// --- Semantic versions -------------------------------------------------------------------------

type SemVer = { core: [number, number, number]; pre: string[] };

const SEMVER =
  /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?$/;

/** A semantic version (2.0.0, an optional leading `v`), or undefined. */
export function parseSemver(text: string): SemVer | undefined {
  const m = SEMVER.exec(text);
  if (m === null) return undefined;
  return {
    core: [Number(m[1]), Number(m[2]), Number(m[3])],
    pre: m[4] === undefined ? [] : m[4].split('.'),
  };
}

/** SemVer 2.0.0 precedence: negative, zero or positive. Build metadata is ignored. */
export function compareSemver(a: SemVer, b: SemVer): number {
  for (let i = 0; i < 3; i++) {
    const d = (a.core[i] as number) - (b.core[i] as number);
    if (d !== 0) return Math.sign(d);
  }
  // A release ranks above its pre-releases (1.0.0-rc.1 < 1.0.0).
  if (a.pre.length === 0 && b.pre.length === 0) return 0;
  if (a.pre.length === 0) return 1;
  if (b.pre.length === 0) return -1;
  for (let i = 0; i < Math.max(a.pre.length, b.pre.length); i++) {
    const x = a.pre[i];
    const y = b.pre[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const xn = /^\d+$/.test(x);
    const yn = /^\d+$/.test(y);
    if (xn && yn) {
      const d = Number(x) - Number(y);
      if (d !== 0) return Math.sign(d);
    } else if (xn !== yn) {
      return xn ? -1 : 1;
    } else if (x !== y) {
      return x < y ? -1 : 1;
    }
  }
  return 0;
}

// --- Conditions --------------------------------------------------------------------------------

/** The value of `attribute` in `context` (`targetingKey` included), if it is one conditions see. */
export function attributeOf(
  context: EvaluationContext,
  attribute: string,
): AttributeValue | undefined {
  const value = Object.hasOwn(context, attribute) ? context[attribute] : undefined;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  return undefined;
}

/**
 * Whether `condition` holds for `context`. A missing attribute (or one of a type the operator
 * cannot compare) never matches, `not_equals` and `not_in` included. An array attribute (a list
 * of strings, e.g. a user's groups) matches `equals`/`in`/`matches` when any element does, and
 * `not_equals`/`not_in` when none does.
 */
export function conditionMatches(condition: Condition, context: EvaluationContext): boolean {
  const actual = attributeOf(context, condition.attribute);
  if (actual === undefined) return false;
  const { operator, value } = condition;
  if (Array.isArray(actual)) {
    switch (operator) {
      case 'equals':
      case 'in':
      case 'matches':
      case 'semver_eq':
        return actual.some((one) => scalarMatches(operator, one, value));
      case 'not_equals':
        return !actual.some((one) => scalarMatches('equals', one, value));
      case 'not_in':
        return !actual.some((one) => scalarMatches('in', one, value));
      default:
        return false;
    }
  }
  return scalarMatches(operator, actual, value);
}

function scalarMatches(operator: Operator, actual: Scalar, expected: Scalar | Scalar[]): boolean {
  switch (operator) {
    case 'equals':
      return actual === expected;
    case 'not_equals':
      return actual !== expected;
    case 'in':
      return Array.isArray(expected) && expected.includes(actual);
    case 'not_in':
      return Array.isArray(expected) && !expected.includes(actual);
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte': {
      if (typeof actual !== 'number' || typeof expected !== 'number') return false;
      return compares(operator, actual - expected);
    }
    case 'semver_eq':
    case 'semver_lt':
    case 'semver_lte':
    case 'semver_gt':
    case 'semver_gte': {
      if (typeof actual !== 'string' || typeof expected !== 'string') return false;
      const a = parseSemver(actual);
      const b = parseSemver(expected);
      if (a === undefined || b === undefined) return false;
      const d = compareSemver(a, b);
      return operator === 'semver_eq' ? d === 0 : compares(operator.slice(7) as 'lt', d);
    }
    case 'matches': {
      if (typeof actual !== 'string' || typeof expected !== 'string') return false;
      if (actual.length > REGEX_LIMITS.input) return false;
      return regex(expected)?.test(actual) ?? false;
    }
  }
}

function compares(operator: 'lt' | 'lte' | 'gt' | 'gte', difference: number): boolean {
  switch (operator) {
    case 'lt':
      return difference < 0;
    case 'lte':
      return difference <= 0;
    case 'gt':
      return difference > 0;
    case 'gte':
      return difference >= 0;
  }
}
