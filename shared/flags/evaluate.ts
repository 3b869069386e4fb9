import { bucketOf, inRollout, splitEntry } from './bucket.ts';
import { conditionMatches, type EvaluationContext, type FlagDefinition } from './rules.ts';

/**
 * OpenFeature's resolution reasons, plus `STALE`: a value served from a snapshot older than the
 * freshness bound because the stores behind it could not be reached.
 */
export const REASONS = [
  'STATIC',
  'DEFAULT',
  'TARGETING_MATCH',
  'SPLIT',
  'DISABLED',
  'ERROR',
  'STALE',
] as const;
export type Reason = (typeof REASONS)[number];

/** OpenFeature's error codes. */
export const ERROR_CODES = [
  'FLAG_NOT_FOUND',
  'TYPE_MISMATCH',
  'PARSE_ERROR',
  'INVALID_CONTEXT',
  'TARGETING_KEY_MISSING',
  'GENERAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * The outcome of evaluating one flag: its value and variant, why, and (for `TARGETING_MATCH` and
 * `SPLIT`) the index of the rule that decided, `-1` for the allow- or deny-list. With an
 * `errorCode`, `value` is the flag's default.
 */
export type Evaluation = {
  key: string;
  value: unknown;
  variant: string;
  reason: Reason;
  rule?: number;
  errorCode?: ErrorCode;
  errorMessage?: string;
};

/**
 * Evaluates `flag` for `context`, in this order: the kill switch (default variant, `DISABLED`);
 * the deny-list (default variant, `TARGETING_MATCH`); the allow-lists (their variant,
 * `TARGETING_MATCH`); the rules in order, the first that matches deciding (a fixed variant is
 * `TARGETING_MATCH`, a rollout or split `SPLIT`; a rollout the key is not in falls through); then
 * the default variant (`DEFAULT`, or `STATIC` when the flag has no targeting at all). A rollout or
 * split reached without a `targetingKey` ends it with the default and `TARGETING_KEY_MISSING`.
 * Pure and synchronous: no I/O, so it runs on the hot path.
 */
export function evaluateFlag(flag: FlagDefinition, context: EvaluationContext): Evaluation {
  const serve = (variant: string, reason: Reason, rule?: number): Evaluation => ({
    key: flag.key,
    value: flag.variants.find((v) => v.key === variant)?.value ?? null,
    variant,
    reason,
    ...(rule === undefined ? {} : { rule }),
  });
  if (flag.kill_switch) return serve(flag.default_variant, 'DISABLED');
  const key = typeof context.targetingKey === 'string' ? context.targetingKey : undefined;
  if (key !== undefined) {
    if (flag.deny.includes(key)) return serve(flag.default_variant, 'TARGETING_MATCH', -1);
    const allowed = flag.allow.find((list) => list.keys.includes(key));
    if (allowed !== undefined) return serve(allowed.variant, 'TARGETING_MATCH', -1);
  }
  for (const [index, rule] of flag.rules.entries()) {
    if (!rule.conditions.every((condition) => conditionMatches(condition, context))) continue;
    if (rule.variant !== undefined) return serve(rule.variant, 'TARGETING_MATCH', index);
    if (key === undefined) {
      return {
        ...serve(flag.default_variant, 'ERROR'),
        errorCode: 'TARGETING_KEY_MISSING',
        errorMessage: `rule ${index} buckets by targetingKey, which the context lacks`,
      };
    }
    const bucket = bucketOf(rule.salt ?? flag.salt, key);
    if (rule.rollout !== undefined) {
      if (inRollout(bucket, rule.rollout.percent))
        return serve(rule.rollout.variant, 'SPLIT', index);
      continue;
    }
    if (rule.split !== undefined) {
      const entry = splitEntry(bucket, rule.split);
      if (entry !== undefined) return serve(entry.variant, 'SPLIT', index);
    }
  }
  const targeted = flag.rules.length > 0 || flag.allow.length > 0 || flag.deny.length > 0;
  return serve(flag.default_variant, targeted ? 'DEFAULT' : 'STATIC');
}
