import { z } from 'zod';

/**
 * `ai.budget_exhausted`: an organisation's model calls reached its daily budget
 * (`settings.ai.daily_budget_usd`) and the extractive engine answers for the rest of the UTC day
 * (`fallback_reason: 'over_budget'`). Sent once per organisation per day, to its real-time
 * channel (`org:<org_id>`) and to its webhook endpoints that subscribe to it; the id is
 * `<org_id>.ai_budget.<day>`, so a repeat is dropped by channels and endpoints alike.
 */
export const AI_BUDGET_EXHAUSTED = 'ai.budget_exhausted';

export const AiBudgetExhaustedData = z.object({
  /** The UTC day (`YYYY-MM-DD`). */
  day: z.iso.date(),
  budget_usd: z.number().nonnegative(),
  /** What the day's model calls had cost when a call was refused. */
  spent_usd: z.number().nonnegative(),
  /** The estimated cost of the call refused. */
  refused_usd: z.number().nonnegative(),
});

export const AiBudgetExhaustedEvent = z.object({
  id: z.string().min(1),
  type: z.literal(AI_BUDGET_EXHAUSTED),
  occurred_at: z.iso.datetime({ offset: true }),
  data: AiBudgetExhaustedData,
});
export type AiBudgetExhaustedEvent = z.output<typeof AiBudgetExhaustedEvent>;

/** The id of an organisation's `ai.budget_exhausted` event of `day`. */
export const aiBudgetExhaustedId = (orgId: string, day: string) => `${orgId}.ai_budget.${day}`;
