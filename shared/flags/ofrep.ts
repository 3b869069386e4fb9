import type { Evaluation } from './evaluate.ts';
import type { EvaluationContext } from './rules.ts';
import { sha256 } from './sha256.ts';

/**
 * The OpenFeature Remote Evaluation Protocol's shapes (github.com/open-feature/protocol,
 * `service/openapi.yaml`): a success is `{ key, value, reason, variant, metadata }`, a failure
 * `{ key, errorCode, errorDetails }`. Pure helpers for the `/ofrep/v1` routes.
 */
export type OfrepSuccess = {
  key: string;
  value: unknown;
  reason: string;
  variant: string;
  metadata: Record<string, string | number | boolean>;
};
export type OfrepFailure = { key: string; errorCode: string; errorDetails: string };

/** An evaluation in OFREP's words: a success, or a failure with its error code. */
export function ofrepResult(
  evaluation: Evaluation,
  version: number | null,
): OfrepSuccess | OfrepFailure {
  if (evaluation.errorCode !== undefined) {
    return {
      key: evaluation.key,
      errorCode: evaluation.errorCode,
      errorDetails: evaluation.errorMessage ?? evaluation.errorCode,
    };
  }
  const metadata: Record<string, string | number | boolean> = {};
  if (version !== null) metadata.flagSetVersion = version;
  if (evaluation.rule !== undefined) metadata.rule = evaluation.rule;
  return {
    key: evaluation.key,
    value: evaluation.value,
    reason: evaluation.reason,
    variant: evaluation.variant,
    metadata,
  };
}

/**
 * Reads an OFREP request body's `context`: an object (absent is empty), whose `targetingKey`, if
 * present, is a string. Other attribute values are kept as sent: conditions ignore what they
 * cannot compare. Undefined when the context is not usable (`INVALID_CONTEXT`).
 */
export function ofrepContext(body: unknown): EvaluationContext | undefined {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) return undefined;
  const context = (body as { context?: unknown }).context;
  if (context === undefined || context === null) return {};
  if (typeof context !== 'object' || Array.isArray(context)) return undefined;
  const key = (context as { targetingKey?: unknown }).targetingKey;
  if (key !== undefined && key !== null && typeof key !== 'string') return undefined;
  return context as EvaluationContext;
}

/**
 * The bulk answer's ETag: the flag-set version and a digest of the context (the answer depends
 * on both), so `If-None-Match` answers `304` until either changes.
 */
export function bulkEtag(version: number, context: EvaluationContext): string {
  const canonical = JSON.stringify(
    Object.keys(context)
      .sort()
      .map((name) => [name, context[name]]),
  );
  const digest = [...sha256(canonical).slice(0, 12)]
    .map((b) => b.toString(16).padStart(2, '0'))
    .join('');
  return `"${version}.${digest}"`;
}
