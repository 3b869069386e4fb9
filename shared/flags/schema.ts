import { z } from 'zod';
import {
  type Condition,
  FLAG_TYPES,
  type FlagType,
  LIST_OPERATORS,
  NUMERIC_OPERATORS,
  OPERATORS,
  parseSemver,
  type Rule,
  regexProblem,
  SEMVER_OPERATORS,
} from './rules.ts';

/**
 * The zod schemas of a flag's definition as the API takes it, with every rule of the rule
 * language checked where it is broken: an issue's path names the field (`rules.2.split`, which
 * the validation hook prefixes with `body.`), its message the rule and, for a contradiction, the
 * field it contradicts.
 */

/** What one flag may hold. */
export const FLAG_LIMITS = {
  keyLength: 100,
  variants: 50,
  rules: 100,
  conditions: 20,
  listValues: 1_000,
  targetingKeys: 10_000,
  targetingKeyLength: 256,
} as const;

/** A flag key: letters, digits, `.`, `_`, `-`, starting with a letter or digit. */
export const FLAG_KEY = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export const FlagKeySchema = z
  .string()
  .min(1)
  .max(FLAG_LIMITS.keyLength)
  .regex(
    FLAG_KEY,
    'must start with a letter or digit and hold only letters, digits, ".", "_", "-"',
  );

const VariantKey = z
  .string()
  .min(1)
  .max(FLAG_LIMITS.keyLength)
  .regex(
    FLAG_KEY,
    'must start with a letter or digit and hold only letters, digits, ".", "_", "-"',
  );
const TargetingKey = z.string().min(1).max(FLAG_LIMITS.targetingKeyLength);
const Scalar = z.union([z.string().max(1024), z.number(), z.boolean()]);
const Percent = z.number().min(0).max(100).multipleOf(0.01);

export const VariantSchema = z.strictObject({
  key: VariantKey,
  // Any JSON value (checked against the flag's type with the rest); not `z.json()`, whose
  // recursive definition the OpenAPI generator cannot walk.
  value: z.unknown().meta({ description: "The variant's value, of the flag's type." }),
});

export const ConditionSchema = z.strictObject({
  attribute: z.string().min(1).max(100).meta({
    description: 'A context attribute (`targetingKey` is the targeting key).',
    example: 'country',
  }),
  operator: z.enum(OPERATORS),
  value: z.union([Scalar, z.array(Scalar).max(FLAG_LIMITS.listValues)]),
});

export const RuleSchema = z.strictObject({
  description: z.string().max(500).optional(),
  conditions: z.array(ConditionSchema).max(FLAG_LIMITS.conditions).default([]),
  variant: VariantKey.optional(),
  rollout: z.strictObject({ variant: VariantKey, percent: Percent }).optional(),
  split: z
    .array(z.strictObject({ variant: VariantKey, weight: Percent.gt(0) }))
    .min(1)
    .max(FLAG_LIMITS.variants)
    .optional(),
  salt: z.string().min(1).max(100).optional(),
});

export const AllowListSchema = z.strictObject({
  variant: VariantKey,
  keys: z.array(TargetingKey).min(1).max(FLAG_LIMITS.targetingKeys),
});

/** The fields of a definition that {@link checkDefinition} checks together. */
export type DefinitionInput = {
  type: FlagType;
  variants: { key: string; value: unknown }[];
  default_variant: string;
  rules: Rule[];
  allow: { variant: string; keys: string[] }[];
  deny: string[];
};

type Issue = { path: (string | number)[]; message: string };

/**
 * Every rule broken across the fields of a definition: values of the flag's type, variants that
 * exist, operators given values they compare, safe regular expressions, splits summing to 100,
 * no contradiction (a key both allowed and denied or allowed twice, conditions no context can
 * meet) and no rule left unreachable behind one that serves everyone. Empty when it is sound.
 */
export function checkDefinition(def: DefinitionInput): Issue[] {
  const issues: Issue[] = [];
  const add = (path: (string | number)[], message: string) => issues.push({ path, message });
  const variants = new Map<string, number>();
  for (const [i, variant] of def.variants.entries()) {
    const first = variants.get(variant.key);
    if (first !== undefined) add(['variants', i, 'key'], `must not repeat variants.${first}.key`);
    else variants.set(variant.key, i);
    const problem = valueProblem(def.type, variant.value);
    if (problem !== undefined) add(['variants', i, 'value'], problem);
  }
  const known = (path: (string | number)[], key: string) => {
    if (!variants.has(key))
      add(path, `must name one of the variants (${[...variants.keys()].join(', ')})`);
  };
  known(['default_variant'], def.default_variant);

  const denied = new Map(def.deny.map((key, i) => [key, i]));
  const allowed = new Map<string, string>();
  for (const [i, list] of def.allow.entries()) {
    known(['allow', i, 'variant'], list.variant);
    for (const [j, key] of list.keys.entries()) {
      const deny = denied.get(key);
      if (deny !== undefined)
        add(['allow', i, 'keys', j], `contradicts deny.${deny} (both name "${key}")`);
      const other = allowed.get(key);
      if (other !== undefined) add(['allow', i, 'keys', j], `repeats ${other} ("${key}")`);
      else allowed.set(key, `allow.${i}.keys.${j}`);
    }
  }

  let catchAll: number | undefined;
  for (const [i, rule] of def.rules.entries()) {
    const path = ['rules', i];
    if (catchAll !== undefined) {
      add(path, `is unreachable: rules.${catchAll} serves every context before it`);
    }
    const serves = [rule.variant, rule.rollout, rule.split].filter((s) => s !== undefined).length;
    if (serves !== 1) {
      add(path, 'must serve exactly one of variant, rollout or split');
      continue;
    }
    if (rule.variant !== undefined) known([...path, 'variant'], rule.variant);
    if (rule.rollout !== undefined) known([...path, 'rollout', 'variant'], rule.rollout.variant);
    if (rule.split !== undefined) {
      for (const [j, entry] of rule.split.entries())
        known([...path, 'split', j, 'variant'], entry.variant);
      const total = rule.split.reduce((sum, entry) => sum + Math.round(entry.weight * 100), 0);
      if (total !== 10_000)
        add([...path, 'split'], `weights must sum to 100 (they sum to ${total / 100})`);
    }
    for (const [j, condition] of rule.conditions.entries()) {
      const problem = conditionProblem(condition);
      if (problem !== undefined) add([...path, 'conditions', j, 'value'], problem);
    }
    const contradiction = contradictionIn(rule.conditions);
    if (contradiction !== undefined) {
      const [j, k] = contradiction;
      add(
        [...path, 'conditions', k],
        `contradicts rules.${i}.conditions.${j}: no context meets both`,
      );
    }
    const everyone =
      rule.conditions.length === 0 &&
      (rule.variant !== undefined || rule.split !== undefined || rule.rollout?.percent === 100);
    if (everyone && catchAll === undefined) catchAll = i;
  }
  return issues;
}

function valueProblem(type: FlagType, value: unknown): string | undefined {
  switch (type) {
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'must be a boolean for a boolean flag';
    case 'string':
      return typeof value === 'string' ? undefined : 'must be a string for a string flag';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value)
        ? undefined
        : 'must be a number for a number flag';
    case 'json':
      return value !== null && typeof value === 'object'
        ? undefined
        : 'must be an object or an array for a json flag';
  }
}

function conditionProblem({ operator, value }: Condition): string | undefined {
  if (LIST_OPERATORS.includes(operator)) {
    return Array.isArray(value) ? undefined : `must be an array for ${operator}`;
  }
  if (Array.isArray(value)) return `must be a single value for ${operator}`;
  if (NUMERIC_OPERATORS.includes(operator)) {
    return typeof value === 'number' ? undefined : `must be a number for ${operator}`;
  }
  if (SEMVER_OPERATORS.includes(operator)) {
    return typeof value === 'string' && parseSemver(value) !== undefined
      ? undefined
      : `must be a semantic version (1.2.3, 2.0.0-beta.1) for ${operator}`;
  }
  if (operator === 'matches') {
    if (typeof value !== 'string') return 'must be a string (a regular expression) for matches';
    return regexProblem(value);
  }
  return undefined;
}

/**
 * A pair of conditions on one attribute that no value meets together (`equals a` and `equals b`,
 * `equals a` and `not_equals a` or `not_in [a]`, `in` lists sharing nothing, `gt 5` and `lt 3`),
 * as their indexes; undefined when there is none.
 */
function contradictionIn(conditions: Condition[]): [number, number] | undefined {
  for (let k = 0; k < conditions.length; k++) {
    for (let j = 0; j < k; j++) {
      const a = conditions[j] as Condition;
      const b = conditions[k] as Condition;
      if (a.attribute === b.attribute && excludes(a, b)) return [j, k];
    }
  }
  return undefined;
}

function allowedSet(c: Condition): Set<unknown> | undefined {
  if (c.operator === 'equals' && !Array.isArray(c.value)) return new Set([c.value]);
  if (c.operator === 'in' && Array.isArray(c.value)) return new Set(c.value);
  return undefined;
}

function excludes(a: Condition, b: Condition): boolean {
  const setA = allowedSet(a);
  const setB = allowedSet(b);
  if (setA !== undefined && setB !== undefined) return ![...setA].some((v) => setB.has(v));
  for (const [set, other] of [
    [setA, b],
    [setB, a],
  ] as const) {
    if (set === undefined) continue;
    const banned =
      other.operator === 'not_equals'
        ? [other.value]
        : other.operator === 'not_in'
          ? other.value
          : undefined;
    if (Array.isArray(banned) && [...set].every((v) => banned.includes(v as never))) return true;
  }
  const lower = (c: Condition) =>
    (c.operator === 'gt' || c.operator === 'gte') && typeof c.value === 'number' ? c : undefined;
  const upper = (c: Condition) =>
    (c.operator === 'lt' || c.operator === 'lte') && typeof c.value === 'number' ? c : undefined;
  const lo = lower(a) ?? lower(b);
  const hi = upper(a) ?? upper(b);
  if (lo !== undefined && hi !== undefined && lo !== hi) {
    const l = lo.value as number;
    const h = hi.value as number;
    return l > h || (l === h && (lo.operator === 'gt' || hi.operator === 'lt'));
  }
  return false;
}

/** A whole definition, as a create takes it. */
export const FlagDefinitionSchema = z
  .strictObject({
    key: FlagKeySchema,
    type: z.enum(FLAG_TYPES),
    description: z.string().max(1000).optional(),
    variants: z.array(VariantSchema).min(1).max(FLAG_LIMITS.variants),
    default_variant: VariantKey,
    rules: z.array(RuleSchema).max(FLAG_LIMITS.rules).default([]),
    allow: z.array(AllowListSchema).max(FLAG_LIMITS.variants).default([]),
    deny: z.array(TargetingKey).max(FLAG_LIMITS.targetingKeys).default([]),
    kill_switch: z.boolean().default(false),
    salt: z.string().min(1).max(100).optional(),
  })
  .superRefine((def, ctx) => {
    for (const issue of checkDefinition(def)) ctx.addIssue({ code: 'custom', ...issue });
  });
export type FlagDefinitionInput = z.infer<typeof FlagDefinitionSchema>;
