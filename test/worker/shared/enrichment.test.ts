import { env } from 'cloudflare:workers';
import { and, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { createWorkersAiProvider } from '../../../shared/ai/provider.ts';
import { EnrichmentSchema } from '../../../shared/ai/schema.ts';
import { aiUsage, organizations, webhookDeliveries } from '../../../shared/db/schema/index.ts';
import { enrichmentCacheKey } from '../../../shared/enrichment/cache.ts';
import { enrichText } from '../../../shared/enrichment/enrich.ts';
import { forgetAiSettings } from '../../../shared/enrichment/settings.ts';
import {
  aiUsageReport,
  checkBudget,
  recordAiUsage,
  utcDay,
  withinBudget,
} from '../../../shared/enrichment/usage.ts';
import { validateEnv } from '../../../shared/env.ts';
import { createLogger } from '../../../shared/logger.ts';
import { createServices } from '../../../shared/services.ts';
import {
  captureLogs,
  createOrg,
  DEAD_URL,
  eventually,
  testDb,
  testServices,
  untilQuiet,
} from '../helpers.ts';
import { insertEndpoint } from '../routes/webhooks/fixtures.ts';

afterAll(() => untilQuiet(), 40_000);

const PRIMARY = '@cf/meta/llama-3.3-70b-instruct-fp8-fast';

/** A document no other test (or earlier run against the same Redis) enriches. */
const documentOf = (marker = crypto.randomUUID()) => `Incident report ${marker}: payment API outage
On 3 December the payment API was down for 42 minutes after a failed certificate rotation.
There is a severe risk of a repeat because the rotation script has no rollback.
Action items:
- Lina Haddad to add a rollback step to the rotation script by Friday.
- The platform team must publish the post-mortem within 5 days.`;

const subject = { type: 'document' as const, id: 'doc_test' };

/** The test env, validated, for services with a logger of the test's own level. */
function validated() {
  const result = validateEnv(env);
  if (!result.ok) throw new Error('test env invalid');
  return result.env;
}

async function usageRows(orgId: string) {
  return testDb().select().from(aiUsage).where(eq(aiUsage.orgId, orgId));
}

async function setAiSettings(orgId: string, ai: Record<string, unknown>) {
  await testDb().update(organizations).set({ settings: { ai } }).where(eq(organizations.id, orgId));
  forgetAiSettings(orgId);
}

describe('enrichText: the AI result cache', () => {
  it('answers the second identical call from the cache, and records both calls', async () => {
    const orgId = await createOrg('ai-cache');
    const services = testServices();
    const text = documentOf();
    const first = await enrichText(services, { orgId, subject, text });
    expect(first).toMatchObject({ engine: 'model', model: PRIMARY, fallback_reason: null });
    expect(first.cached).toBeUndefined();
    expect(first.estimated_cost_usd).toBeGreaterThan(0);

    const second = await enrichText(services, { orgId, subject, text });
    expect(second.cached).toBe(true);
    const { cached: _, ...same } = second;
    expect(same).toEqual(first);
    expect(EnrichmentSchema.parse(second)).toEqual(second);

    const rows = await usageRows(orgId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      day: utcDay(),
      kind: 'enrich',
      model: PRIMARY,
      engine: 'model',
      calls: 2,
      cacheHits: 1,
      semanticHits: 0,
      inputTokens: first.tokens.input,
      outputTokens: first.tokens.output,
    });
    // The hit cost nothing: the day's cost is the first call's.
    expect(Number(rows[0]!.costUsd)).toBeCloseTo(first.estimated_cost_usd, 6);
    const report = await aiUsageReport(testDb(), orgId, { from: utcDay(), to: utcDay() });
    expect(report.totals.by_kind.enrich).toMatchObject({ calls: 2, cache_hits: 1 });
    expect(report.totals.by_kind.enrich.cache_hit_rate).toBe(0.5);
    expect(report.totals.by_kind.ask).toMatchObject({ calls: 0, cache_hit_rate: null });
  });

  it('misses when the organisation, the text, the tasks or the model differ', async () => {
    const orgId = await createOrg('ai-cache-miss');
    const services = testServices();
    const text = documentOf();
    await enrichText(services, { orgId, subject, text });
    expect((await enrichText(services, { orgId, subject, text })).cached).toBe(true);

    const otherOrg = await createOrg('ai-cache-other');
    expect((await enrichText(services, { orgId: otherOrg, subject, text })).cached).toBeUndefined();
    const otherText = await enrichText(services, { orgId, subject, text: `${text}\nMore.` });
    expect(otherText.cached).toBeUndefined();
    const fewerTasks = await enrichText(services, { orgId, subject, text, tasks: ['tags'] });
    expect(fewerTasks).toMatchObject({ engine: 'model', summaries: null });
    expect(fewerTasks.cached).toBeUndefined();
    // The same task set in another order is the same request.
    const again = await enrichText(services, {
      orgId,
      subject,
      text,
      tasks: ['summaries', 'tags'],
    });
    expect(again.cached).toBeUndefined();
    expect(
      (await enrichText(services, { orgId, subject, text, tasks: ['tags', 'summaries'] })).cached,
    ).toBe(true);

    const otherModel = testServices({ AI_MODEL: '@cf/meta/llama-3.1-8b-instruct' } as Partial<Env>);
    const byOther = await enrichText(otherModel, { orgId, subject, text });
    expect(byOther).toMatchObject({ engine: 'model', model: '@cf/meta/llama-3.1-8b-instruct' });
    expect(byOther.cached).toBeUndefined();
  });

  it('never caches a fallback under the model’s key: neither the fallback model’s nor the engine’s', async () => {
    const orgId = await createOrg('ai-cache-fallback');
    // The configured model fails; the fallback model (or nothing, in the second case) answers.
    const failing = (fallback: boolean) => ({
      ...testServices(),
      ai: createWorkersAiProvider({
        accountId: env.WORKERS_AI_ACCOUNT_ID,
        apiToken: env.WORKERS_AI_API_TOKEN,
        apiUrl: env.WORKERS_AI_API_URL,
        retries: 0,
        breaker: { run: (fn) => fn() },
        fetch: (async (input: RequestInfo | URL, init?: RequestInit) =>
          String(input).endsWith(PRIMARY) || !fallback
            ? Response.json({ success: false, errors: [{ code: 3040 }] }, { status: 500 })
            : fetch(input, init)) as typeof fetch,
      }),
    });
    const text = documentOf();
    for (const fallback of [true, false]) {
      const services = failing(fallback);
      const first = await enrichText(services, { orgId, subject, text });
      expect(first).toMatchObject(
        fallback
          ? { engine: 'model', model: '@cf/meta/llama-3.1-8b-instruct' }
          : { engine: 'extractive', fallback_reason: 'provider_error' },
      );
      expect((await enrichText(services, { orgId, subject, text })).cached).toBeUndefined();
    }
    // The configured model, once it answers, is asked (and its answer kept) as before.
    const healthy = await enrichText(testServices(), { orgId, subject, text });
    expect(healthy).toMatchObject({ engine: 'model', model: PRIMARY });
    expect(healthy.cached).toBeUndefined();
    expect((await enrichText(testServices(), { orgId, subject, text })).cached).toBe(true);
  });

  it('keys by model, prompt version, task set and everything the prompt carries', async () => {
    const base = {
      orgId: 'org_01jd5x3k7yf0v9r2m4q6s8t1wz',
      model: `workers-ai:${PRIMARY}`,
      promptVersion: 'enrich-v1',
      text: 'A text.',
      tasks: ['summaries', 'tags'] as const,
      locale: null,
      categories: [],
      referenceDay: '2026-12-05',
    };
    const key = await enrichmentCacheKey(base);
    expect(key).toMatch(
      /^ai:enrich:org_\w+:workers-ai:@cf\/meta\/[^:]+:enrich-v1:summaries,tags:[0-9a-f]{64}$/,
    );
    expect(await enrichmentCacheKey({ ...base, tasks: ['tags', 'summaries', 'tags'] })).toBe(key);
    for (const change of [
      { orgId: 'org_01jd5x3k7yf0v9r2m4q6s8t1wy' },
      { promptVersion: 'enrich-v2' },
      { model: 'workers-ai:@cf/meta/llama-3.1-8b-instruct' },
      { text: 'A text!' },
      { tasks: ['summaries'] as const },
      { locale: 'ar' },
      { categories: ['Payments'] },
      { referenceDay: '2026-12-06' },
    ]) {
      expect(await enrichmentCacheKey({ ...base, ...change })).not.toBe(key);
    }
  });
});

describe('the daily budget', () => {
  it('allows a call that reaches the budget exactly, not one a millionth over', async () => {
    const orgId = await createOrg('ai-budget-edge');
    const services = testServices();
    expect(await withinBudget(services, orgId, 1_000)).toBe(true); // no budget: unlimited
    await setAiSettings(orgId, { daily_budget_usd: 1 });
    await recordAiUsage(services, {
      orgId,
      kind: 'ask',
      model: PRIMARY,
      engine: 'model',
      tokens: { input: 1000, output: 100 },
      costUsd: 0.4,
      cache: 'miss',
    });
    await recordAiUsage(services, {
      orgId,
      kind: 'enrich',
      model: PRIMARY,
      engine: 'model',
      tokens: { input: 1000, output: 100 },
      costUsd: 0.1,
      cache: 'miss',
    });
    expect(await withinBudget(services, orgId, 0.5)).toBe(true);
    expect(await withinBudget(services, orgId, 0.500001)).toBe(false);
    expect(await checkBudget(services, orgId, 0.6)).toEqual({
      allowed: false,
      budgetUsd: 1,
      spentUsd: 0.5,
    });
    // A call recorded in this isolate counts at once, without waiting for the copy to expire.
    await recordAiUsage(services, {
      orgId,
      kind: 'enrich',
      model: PRIMARY,
      engine: 'model',
      tokens: { input: 10, output: 10 },
      costUsd: 0.5,
      cache: 'miss',
    });
    expect(await withinBudget(services, orgId, 0)).toBe(true);
    expect(await withinBudget(services, orgId, 0.000001)).toBe(false);
  });

  it('warns once (HighAICosts) when a day costs more than 1.5 times the budget', async () => {
    const orgId = await createOrg('ai-high-costs');
    await setAiSettings(orgId, { daily_budget_usd: 1 });
    const logs = captureLogs();
    try {
      const services = createServices(validated(), createLogger({ level: 'warn' }), {
        waitUntil: () => {},
        context: {},
      });
      const spend = (usd: number) =>
        recordAiUsage(services, {
          orgId,
          kind: 'ask',
          model: PRIMARY,
          engine: 'model',
          tokens: { input: 1, output: 1 },
          costUsd: usd,
          cache: 'miss',
        });
      const highCosts = () => logs.lines.filter((l) => l.alert === 'HighAICosts');
      await spend(1.5);
      expect(await withinBudget(services, orgId, 0.01)).toBe(false);
      expect(highCosts()).toEqual([]); // exactly 1.5 times: not beyond
      await spend(0.000001);
      expect(await withinBudget(services, orgId, 0.01)).toBe(false);
      expect(await withinBudget(services, orgId, 0.01)).toBe(false);
      expect(highCosts()).toEqual([
        expect.objectContaining({ org_id: orgId, budget_usd: 1, spent_usd: 1.500001 }),
      ]);
    } finally {
      logs.restore();
    }
  });

  it('answers with the extractive engine once the budget is spent, and says so once a day', async () => {
    const orgId = await createOrg('ai-budget');
    const endpointId = (await insertEndpoint(orgId, env.SECRETS_KEY, { eventTypes: ['ai.*'] })).id;
    // Less than any model call costs.
    await setAiSettings(orgId, { daily_budget_usd: 0.000001 });
    const services = testServices();
    const first = await enrichText(services, { orgId, subject, text: documentOf() });
    expect(first).toMatchObject({
      engine: 'extractive',
      model: 'sift/extractive',
      fallback_reason: 'over_budget',
      estimated_cost_usd: 0,
    });
    expect(first.summaries?.short.text).toMatch(/rotation script/);
    const second = await enrichText(services, { orgId, subject, text: documentOf() });
    expect(second).toMatchObject({ engine: 'extractive', fallback_reason: 'over_budget' });

    const channel = env.REALTIME.get(env.REALTIME.idFromName(`org:${orgId}`));
    await eventually(async () => (await channel.presence()).offset === 1, 20_000);
    const deliveries = () =>
      testDb()
        .select({ eventType: webhookDeliveries.eventType, eventId: webhookDeliveries.eventId })
        .from(webhookDeliveries)
        .where(
          and(eq(webhookDeliveries.orgId, orgId), eq(webhookDeliveries.endpointId, endpointId)),
        );
    expect(
      await eventually(async () => (await deliveries()).length > 0 && deliveries(), 20_000),
    ).toEqual([{ eventType: 'ai.budget_exhausted', eventId: `${orgId}.ai_budget.${utcDay()}` }]);
    // A third refusal the same day sends nothing more.
    await enrichText(services, { orgId, subject, text: documentOf() });
    await untilQuiet({ quietMs: 1_500 });
    expect((await channel.presence()).offset).toBe(1);
    expect(await deliveries()).toHaveLength(1);

    // Refused calls are recorded as the engine's, at no cost.
    expect(await usageRows(orgId)).toEqual([
      expect.objectContaining({
        kind: 'enrich',
        model: 'sift/extractive',
        engine: 'extractive',
        calls: 3,
        cacheHits: 0,
        inputTokens: 0,
        costUsd: '0.000000',
      }),
    ]);
  });
});

// Last: a Redis that is down trips the isolate's `redis` circuit, which the tests above need shut.
describe('enrichText with Redis down', () => {
  it('still enriches with the model, uncached', async () => {
    const orgId = await createOrg('ai-redis-down');
    const services = testServices({ UPSTASH_REDIS_REST_URL: DEAD_URL } as Partial<Env>);
    const text = documentOf();
    const first = await enrichText(services, { orgId, subject, text });
    expect(first).toMatchObject({ engine: 'model', model: PRIMARY, fallback_reason: null });
    const second = await enrichText(services, { orgId, subject, text });
    expect(second).toMatchObject({ engine: 'model' });
    expect(second.cached).toBeUndefined();
    expect(await usageRows(orgId)).toEqual([
      expect.objectContaining({ calls: 2, cacheHits: 0, engine: 'model' }),
    ]);
  });
});
