import type { Services } from '../services.ts';

/** What an AI call was for. */
export type AiUsageKind = 'enrich' | 'ask';

export type AiUsage = {
  orgId: string;
  kind: AiUsageKind;
  /** `sift/extractive` when the engine answered. */
  model: string;
  engine: 'model' | 'extractive';
  tokens: { input: number; output: number };
  costUsd: number;
  /** Whether the answer came from a cache, and which. */
  cache: 'miss' | 'exact' | 'semantic';
};

/**
 * Records one AI call (or cache hit) against the organisation's day: tokens, estimated cost and
 * cache hits, which the organisation's budget and usage report read. Never throws: accounting
 * must not fail the work it accounts for.
 */
export async function recordAiUsage(
  _services: Pick<Services, 'db' | 'logger'>,
  _usage: AiUsage,
): Promise<void> {}

/**
 * Whether the organisation may spend `usd` more on models today (its daily budget, when it has
 * one). `false` means: answer with the extractive engine (`fallback_reason: 'over_budget'`).
 */
export async function withinBudget(
  _services: Pick<Services, 'db' | 'logger'>,
  _orgId: string,
  _usd: number,
): Promise<boolean> {
  return true;
}
