import { and, asc, eq, gte, lte, sql } from 'drizzle-orm';
import { REALTIME_PUBLISH, type RealtimePublish, WEBHOOK_DISPATCH } from '../content/fanout.ts';
import type { HttpDatabase } from '../db/client.ts';
import { aiUsage } from '../db/schema/ai.ts';
import type { Services } from '../services.ts';
import { AI_BUDGET_EXHAUSTED, type AiBudgetExhaustedEvent, aiBudgetExhaustedId } from './events.ts';
import { aiSettings } from './settings.ts';

/** What an AI call was for. */
export type AiUsageKind = 'enrich' | 'ask';
export const AI_USAGE_KINDS = ['enrich', 'ask'] as const satisfies readonly AiUsageKind[];

export type AiUsage = {
  orgId: string;
  kind: AiUsageKind;
  /** `sift/extractive` when the engine answered. */
  model: string;
  engine: 'model' | 'extractive';
  /** What the call consumed: zeros for a cache hit. */
  tokens: { input: number; output: number };
  /** What the call cost: 0 for a cache hit and for the extractive engine. */
  costUsd: number;
  /** Whether the answer came from a cache, and which. */
  cache: 'miss' | 'exact' | 'semantic';
};

/** The UTC day of `at`, `YYYY-MM-DD`: the unit of usage rows and budgets. */
export const utcDay = (at: Date = new Date()) => at.toISOString().slice(0, 10);

/** Dollars as whole millionths, so sums and the budget compare exactly. */
const micros = (usd: number) => Math.round(usd * 1_000_000);

/** How long an isolate trusts its copy of an organisation's spend today before reading again. */
export const SPEND_TTL_MS = 5_000;

/**
 * The isolate's copies of organisations' spend, in millionths of a dollar, by `<org>:<day>`.
 * Calls recorded in this isolate are added at once; calls of other isolates are seen when the
 * copy is read again, within {@link SPEND_TTL_MS}.
 */
const spend = new Map<string, { micros: number; until: number }>();
/** How many copies the isolate holds before it drops the expired ones. */
const MAX_SPEND_COPIES = 1_000;

/**
 * Records one AI call (or cache hit) against the organisation's day: tokens, estimated cost and
 * cache hits, which the organisation's budget and usage report read. One upsert of its
 * `ai_usage` row (organisation, day, kind, model, engine). Never throws: accounting must not
 * fail the work it accounts for (a failure is logged, and the call goes uncounted).
 */
export async function recordAiUsage(
  services: Pick<Services, 'db' | 'logger'>,
  usage: AiUsage,
): Promise<void> {
  const day = utcDay();
  const cost = Math.max(0, micros(usage.costUsd));
  try {
    await services.db
      .insert(aiUsage)
      .values({
        orgId: usage.orgId,
        day,
        kind: usage.kind,
        model: usage.model,
        engine: usage.engine,
        calls: 1,
        cacheHits: usage.cache === 'exact' ? 1 : 0,
        semanticHits: usage.cache === 'semantic' ? 1 : 0,
        inputTokens: Math.max(0, Math.round(usage.tokens.input)),
        outputTokens: Math.max(0, Math.round(usage.tokens.output)),
        costUsd: (cost / 1_000_000).toFixed(6),
      })
      .onConflictDoUpdate({
        target: [aiUsage.orgId, aiUsage.day, aiUsage.kind, aiUsage.model, aiUsage.engine],
        set: {
          calls: sql`${aiUsage.calls} + excluded.calls`,
          cacheHits: sql`${aiUsage.cacheHits} + excluded.cache_hits`,
          semanticHits: sql`${aiUsage.semanticHits} + excluded.semantic_hits`,
          inputTokens: sql`${aiUsage.inputTokens} + excluded.input_tokens`,
          outputTokens: sql`${aiUsage.outputTokens} + excluded.output_tokens`,
          costUsd: sql`${aiUsage.costUsd} + excluded.cost_usd`,
          updatedAt: sql`now()`,
        },
      });
  } catch (error) {
    services.logger.warn('AI usage not recorded', {
      org_id: usage.orgId,
      kind: usage.kind,
      model: usage.model,
      error,
    });
    return;
  }
  const copy = spend.get(`${usage.orgId}:${day}`);
  if (copy) copy.micros += cost;
}

/** What the organisation's model calls have cost on `day`, in millionths of a dollar. */
async function spentMicros(
  services: Pick<Services, 'db'>,
  orgId: string,
  day: string,
  now: number,
): Promise<number> {
  const key = `${orgId}:${day}`;
  const copy = spend.get(key);
  if (copy && copy.until > now) return copy.micros;
  const [row] = await services.db
    .select({ cost: sql<string | null>`sum(${aiUsage.costUsd})` })
    .from(aiUsage)
    .where(and(eq(aiUsage.orgId, orgId), eq(aiUsage.day, day)));
  const found = micros(Number(row?.cost ?? 0));
  // Copies outlive their use (yesterday's, an organisation gone quiet): drop the expired ones
  // now and then, so a long-lived isolate does not keep every organisation's every day.
  if (spend.size >= MAX_SPEND_COPIES) {
    for (const [stale, copy] of spend) if (copy.until <= now) spend.delete(stale);
  }
  spend.set(key, { micros: found, until: now + SPEND_TTL_MS });
  return found;
}

/** Where an organisation stands against its daily budget; `budgetUsd` null: it has none. */
export type BudgetCheck = { allowed: boolean; budgetUsd: number | null; spentUsd: number };

/** Spend beyond this multiple of the budget is logged as `HighAICosts` (seed 004's alert). */
export const HIGH_COSTS_FACTOR = 1.5;

/** The organisation-days this isolate has warned of, so the warning is logged once each. */
const warned = new Set<string>();

/**
 * Logs (warn, `alert: 'HighAICosts'`) that an organisation's day has cost more than
 * {@link HIGH_COSTS_FACTOR} times its budget: the budget refuses calls, so this means spend it
 * could not stop (calls of other isolates within their copies' lifetime, or callers that record
 * usage without asking `withinBudget`). Once per organisation and day in an isolate.
 */
function warnHighCosts(
  services: Pick<Services, 'logger'>,
  orgId: string,
  day: string,
  spent: number,
  budget: number,
) {
  const key = `${orgId}:${day}`;
  if (warned.has(key)) return;
  if (warned.size >= MAX_SPEND_COPIES) warned.clear();
  warned.add(key);
  services.logger.warn('AI costs over 1.5 times the daily budget', {
    alert: 'HighAICosts',
    org_id: orgId,
    day,
    spent_usd: spent / 1_000_000,
    budget_usd: budget,
  });
}

/**
 * {@link withinBudget} with the figures: the budget and what today's calls cost so far. A call
 * is allowed when today's spend plus its estimate is at most the budget (exactly at it is
 * allowed; a millionth of a dollar over is not). The budget is read from the organisation's
 * settings (kept 30 s in the isolate), the spend from `ai_usage` (kept {@link SPEND_TTL_MS});
 * Postgres being unreachable allows the call (logged): the budget limits cost, it must not
 * stop the work.
 */
export async function checkBudget(
  services: Pick<Services, 'db' | 'logger'>,
  orgId: string,
  usd: number,
  now = Date.now(),
): Promise<BudgetCheck> {
  const { daily_budget_usd: budget } = await aiSettings(services, orgId, now);
  if (budget === null) return { allowed: true, budgetUsd: null, spentUsd: 0 };
  try {
    const day = utcDay(new Date(now));
    const spent = await spentMicros(services, orgId, day, now);
    if (spent > micros(budget) * HIGH_COSTS_FACTOR)
      warnHighCosts(services, orgId, day, spent, budget);
    return {
      allowed: spent + Math.max(0, micros(usd)) <= micros(budget),
      budgetUsd: budget,
      spentUsd: spent / 1_000_000,
    };
  } catch (error) {
    services.logger.warn('AI spend unreadable; allowing the call', { org_id: orgId, error });
    return { allowed: true, budgetUsd: budget, spentUsd: 0 };
  }
}

/**
 * Whether the organisation may spend `usd` more on models today (its daily budget, when it has
 * one). `false` means: answer with the extractive engine (`fallback_reason: 'over_budget'`), and
 * call {@link announceBudgetExhausted}.
 */
export async function withinBudget(
  services: Pick<Services, 'db' | 'logger'>,
  orgId: string,
  usd: number,
): Promise<boolean> {
  return (await checkBudget(services, orgId, usd)).allowed;
}

/** How long the once-a-day guard of `ai.budget_exhausted` is kept: past the day's end. */
const ANNOUNCED_TTL_SECONDS = 2 * 86_400;

/**
 * Sends `ai.budget_exhausted` for the organisation's day to its real-time channel and webhook
 * endpoints, once: a Redis `SET NX` per organisation and day lets only the first refused call
 * send it. Redis being down sends it anyway (its id is the day's, so channels and endpoints drop
 * a repeat). Never throws: a lost notice must not fail the work (logged).
 */
export async function announceBudgetExhausted(
  services: Pick<Services, 'redis' | 'guard' | 'enqueue' | 'logger'>,
  orgId: string,
  figures: { budgetUsd: number; spentUsd: number; refusedUsd: number },
  now = new Date(),
): Promise<boolean> {
  const day = utcDay(now);
  try {
    const first = await services
      .guard('redis', () =>
        services.redis.set(`ai:budget-exhausted:${orgId}:${day}`, now.toISOString(), {
          nx: true,
          ex: ANNOUNCED_TTL_SECONDS,
        }),
      )
      .catch((error: unknown) => {
        services.logger.warn('AI budget guard unavailable; announcing anyway', {
          org_id: orgId,
          error,
        });
        return 'OK';
      });
    if (first === null) return false;
    const event: AiBudgetExhaustedEvent = {
      id: aiBudgetExhaustedId(orgId, day),
      type: AI_BUDGET_EXHAUSTED,
      occurred_at: now.toISOString(),
      data: {
        day,
        budget_usd: figures.budgetUsd,
        spent_usd: figures.spentUsd,
        refused_usd: figures.refusedUsd,
      },
    };
    const realtime: RealtimePublish = { org_id: orgId, channels: [`org:${orgId}`], event };
    await services.enqueue('jobs', REALTIME_PUBLISH, realtime, { orgId });
    await services.enqueue('jobs', WEBHOOK_DISPATCH, { org_id: orgId, event }, { orgId });
    services.logger.info('AI budget exhausted', { org_id: orgId, day, ...figures });
    return true;
  } catch (error) {
    services.logger.warn('ai.budget_exhausted not sent', { org_id: orgId, day, error });
    return false;
  }
}

/** One `ai_usage` row as the usage report gives it. */
export type AiUsageRow = {
  day: string;
  kind: AiUsageKind;
  model: string;
  engine: 'model' | 'extractive';
  calls: number;
  cache_hits: number;
  semantic_hits: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
};

export type AiUsageTotals = {
  calls: number;
  cache_hits: number;
  semantic_hits: number;
  /** Hits (exact and semantic) over calls; null without calls. */
  cache_hit_rate: number | null;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
};

export type AiUsageReport = {
  from: string;
  to: string;
  days: AiUsageRow[];
  totals: AiUsageTotals & { by_kind: Record<AiUsageKind, AiUsageTotals> };
};

/** The most days one usage report covers. */
export const MAX_USAGE_DAYS = 366;
/** The days a report covers when `from` is not given, `to` included. */
export const DEFAULT_USAGE_DAYS = 30;

/**
 * The window of a usage report: `from` and `to` are UTC days, both included; `to` defaults to
 * today, `from` to {@link DEFAULT_USAGE_DAYS} days ending at `to`. A window that ends before it
 * starts, or spans more than {@link MAX_USAGE_DAYS}, names the parameter at fault.
 */
export function usageWindow(
  query: { from?: string | undefined; to?: string | undefined },
  now: Date,
): { ok: true; from: string; to: string } | { ok: false; field: 'from' | 'to'; message: string } {
  const to = query.to ?? utcDay(now);
  const toMs = Date.parse(`${to}T00:00:00Z`);
  const from = query.from ?? utcDay(new Date(toMs - (DEFAULT_USAGE_DAYS - 1) * 86_400_000));
  const fromMs = Date.parse(`${from}T00:00:00Z`);
  if (fromMs > toMs) return { ok: false, field: 'from', message: 'must not be after `to`' };
  if ((toMs - fromMs) / 86_400_000 + 1 > MAX_USAGE_DAYS) {
    return {
      ok: false,
      field: query.from === undefined ? 'to' : 'from',
      message: `the window must span at most ${MAX_USAGE_DAYS} days`,
    };
  }
  return { ok: true, from, to };
}

const emptyTotals = (): AiUsageTotals => ({
  calls: 0,
  cache_hits: 0,
  semantic_hits: 0,
  cache_hit_rate: null,
  input_tokens: 0,
  output_tokens: 0,
  cost_usd: 0,
});

/**
 * The organisation's AI usage over `[from, to]` (UTC days): its rows, by day then kind, model
 * and engine, and totals, overall and per kind, with their cache hit rates.
 */
export async function aiUsageReport(
  db: HttpDatabase,
  orgId: string,
  window: { from: string; to: string },
): Promise<AiUsageReport> {
  const rows = await db
    .select()
    .from(aiUsage)
    .where(
      and(eq(aiUsage.orgId, orgId), gte(aiUsage.day, window.from), lte(aiUsage.day, window.to)),
    )
    .orderBy(asc(aiUsage.day), asc(aiUsage.kind), asc(aiUsage.model), asc(aiUsage.engine));
  const days: AiUsageRow[] = rows.map((r) => ({
    day: r.day,
    kind: r.kind as AiUsageKind,
    model: r.model,
    engine: r.engine as 'model' | 'extractive',
    calls: r.calls,
    cache_hits: r.cacheHits,
    semantic_hits: r.semanticHits,
    input_tokens: r.inputTokens,
    output_tokens: r.outputTokens,
    cost_usd: Number(r.costUsd),
  }));
  const totals = emptyTotals();
  const byKind = { enrich: emptyTotals(), ask: emptyTotals() };
  const costs = { all: 0, enrich: 0, ask: 0 };
  for (const row of days) {
    for (const sum of [totals, byKind[row.kind]]) {
      sum.calls += row.calls;
      sum.cache_hits += row.cache_hits;
      sum.semantic_hits += row.semantic_hits;
      sum.input_tokens += row.input_tokens;
      sum.output_tokens += row.output_tokens;
    }
    costs.all += micros(row.cost_usd);
    costs[row.kind] += micros(row.cost_usd);
  }
  const finish = (sum: AiUsageTotals, cost: number) => {
    sum.cost_usd = cost / 1_000_000;
    sum.cache_hit_rate = sum.calls === 0 ? null : (sum.cache_hits + sum.semantic_hits) / sum.calls;
  };
  finish(totals, costs.all);
  finish(byKind.enrich, costs.enrich);
  finish(byKind.ask, costs.ask);
  return { ...window, days, totals: { ...totals, by_kind: byKind } };
}
