import { iso, referenceDay } from '../ai/extractive/dates.ts';
import { PROMPT_VERSION } from '../ai/prompt.ts';
import type { BudgetCheck, EnrichOptions } from '../ai/provider.ts';
import { ENRICHMENT_TASKS, type Enrichment, type EnrichmentTask } from '../ai/schema.ts';
import type { Services } from '../services.ts';
import type { Lang } from '../text/analyze.ts';
import { cachedEnrichment, cacheEnrichment, enrichmentCacheKey } from './cache.ts';
import { announceBudgetExhausted, checkBudget, recordAiUsage } from './usage.ts';

/** What is enriched, for the record (costs, events). */
export type EnrichmentSubject = { type: 'document' | 'content'; id: string };

export type EnrichRequest = {
  orgId: string;
  subject: EnrichmentSubject;
  text: string;
  /** The text's language when known; detected otherwise. */
  locale?: Lang;
  /** The organisation's category names to choose from. */
  categories?: readonly string[];
  /** Default every task. */
  tasks?: readonly EnrichmentTask[];
};

export type EnrichServices = Pick<Services, 'ai' | 'db' | 'redis' | 'guard' | 'enqueue' | 'logger'>;

/**
 * Enriches a text for an organisation: the one entry point the document pipeline and content
 * enrichment call. Never throws for the model's sake: the provider answers with the extractive
 * engine when the model fails.
 *
 * - **Cache.** A model's answer is kept in Redis for 24 hours under the model, prompt version,
 *   task set and a hash of the text with its language, categories and reference day
 *   (`./cache.ts`); the same request answers from there (`cached: true`) without calling the
 *   model. Only the configured model's own answers are kept: an extractive fallback (or the
 *   fallback model's answer) is never stored under its key, and the engine alone, which is
 *   deterministic and costs nothing, is not cached. Redis unreachable is a miss.
 * - **Budget.** Each model call is first checked against the organisation's daily budget
 *   (`settings.ai.daily_budget_usd`, `checkBudget`); refused, the engine answers with
 *   `fallback_reason: 'over_budget'` and `ai.budget_exhausted` goes out (once a day).
 * - **Usage.** Every call, hit or not, is recorded in `ai_usage` (`kind: 'enrich'`).
 */
export async function enrichText(
  services: EnrichServices,
  request: EnrichRequest,
): Promise<Enrichment> {
  const { orgId } = request;
  const tasks = request.tasks ?? ENRICHMENT_TASKS;
  const referenceDate = iso(referenceDay(undefined));
  const key = await enrichmentCacheKey({
    orgId,
    model: services.ai.model,
    promptVersion: PROMPT_VERSION,
    text: request.text,
    tasks,
    locale: request.locale ?? null,
    categories: request.categories ?? [],
    referenceDay: referenceDate,
  });
  const hit = await cachedEnrichment(services, key);
  if (hit) {
    await recordAiUsage(services, {
      orgId,
      kind: 'enrich',
      model: hit.model,
      engine: hit.engine,
      tokens: { input: 0, output: 0 },
      costUsd: 0,
      cache: 'exact',
    });
    services.logger.debug('text enriched from the AI cache', {
      org_id: orgId,
      subject: request.subject,
      model: hit.model,
    });
    return { ...hit, cached: true };
  }

  let refused: { budgetUsd: number; spentUsd: number; refusedUsd: number } | undefined;
  const budget: BudgetCheck = async ({ usd }) => {
    const check = await checkBudget(services, orgId, usd);
    if (!check.allowed && check.budgetUsd !== null) {
      refused = { budgetUsd: check.budgetUsd, spentUsd: check.spentUsd, refusedUsd: usd };
    }
    return check.allowed;
  };
  const options: EnrichOptions = {
    tasks,
    referenceDate,
    budget,
    ...(request.locale ? { locale: request.locale } : {}),
    ...(request.categories ? { categories: request.categories } : {}),
  };
  const result = await services.ai.enrich(request.text, options);

  const byModel = result.engine === 'model';
  await recordAiUsage(services, {
    orgId,
    kind: 'enrich',
    model: result.model,
    engine: result.engine,
    // The engine's token figures are estimates of a call no model made.
    tokens: byModel ? result.tokens : { input: 0, output: 0 },
    costUsd: byModel ? result.estimated_cost_usd : 0,
    cache: 'miss',
  });
  const configured =
    services.ai.model === result.model || services.ai.model === `workers-ai:${result.model}`;
  if (byModel && configured) await cacheEnrichment(services, key, result);
  if (result.fallback_reason === 'over_budget' && refused) {
    await announceBudgetExhausted(services, orgId, refused);
  }
  services.logger.debug('text enriched', {
    org_id: orgId,
    subject: request.subject,
    model: result.model,
    engine: result.engine,
    fallback_reason: result.fallback_reason,
  });
  return result;
}
