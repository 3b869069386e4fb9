import { type Evaluation, evaluateFlag } from './evaluate.ts';
import type { EvaluationContext, FlagDefinition } from './rules.ts';
import type { SnapshotResult } from './snapshot.ts';

/**
 * Evaluates `keys` (every live flag when undefined) of a snapshot for one context. A key the
 * set lacks answers `FLAG_NOT_FOUND`; no snapshot at all answers every key requested with
 * `GENERAL` (value null: the default is not known without one); a stale snapshot answers as it
 * would, with reason `STALE`.
 */
export function evaluateSnapshot(
  snapshot: SnapshotResult,
  context: EvaluationContext,
  keys?: readonly string[],
): Evaluation[] {
  if (!snapshot.ok) {
    return (keys ?? []).map((key) => ({
      key,
      value: null,
      variant: '',
      reason: 'ERROR',
      errorCode: 'GENERAL',
      errorMessage: 'flags are unavailable: no snapshot could be loaded',
    }));
  }
  const byKey = new Map<string, FlagDefinition>(snapshot.set.flags.map((f) => [f.key, f]));
  const wanted = keys ?? snapshot.set.flags.map((f) => f.key);
  return wanted.map((key): Evaluation => {
    const flag = byKey.get(key);
    if (flag === undefined) {
      return {
        key,
        value: null,
        variant: '',
        reason: 'ERROR',
        errorCode: 'FLAG_NOT_FOUND',
        errorMessage: `no flag "${key}"`,
      };
    }
    const result = evaluateFlag(flag, context);
    return snapshot.stale && result.errorCode === undefined
      ? { ...result, reason: 'STALE' }
      : result;
  });
}
