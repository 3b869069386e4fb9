import { afterAll, describe, expect, it } from 'vitest';
import { recordAiUsage, utcDay } from '../../../../shared/enrichment/usage.ts';
import { call, expectProblem, testServices, untilQuiet } from '../../helpers.ts';
import { signedIn } from '../keys/fixtures.ts';

afterAll(() => untilQuiet(), 40_000);

const MODEL = '@cf/meta/llama-3.3-70b-instruct-fp8-fast';

type Totals = {
  calls: number;
  cache_hits: number;
  cache_hit_rate: number | null;
  cost_usd: number;
};
type Report = {
  from: string;
  to: string;
  days: Record<string, unknown>[];
  totals: Totals & { input_tokens: number; by_kind: { enrich: Totals; ask: Totals } };
};

async function record(orgId: string, kind: 'enrich' | 'ask', cache: 'miss' | 'exact' | 'semantic') {
  const hit = cache !== 'miss';
  await recordAiUsage(testServices(), {
    orgId,
    kind,
    model: MODEL,
    engine: 'model',
    tokens: hit ? { input: 0, output: 0 } : { input: 1000, output: 200 },
    costUsd: hit ? 0 : 0.000744,
    cache,
  });
}

describe('GET /v1/ai/usage', () => {
  it('answers the day’s rows with totals and cache hit rates per kind', async () => {
    const { orgId, auth } = await signedIn('ai-usage');
    await record(orgId, 'enrich', 'miss');
    await record(orgId, 'enrich', 'exact');
    await record(orgId, 'enrich', 'exact');
    await record(orgId, 'enrich', 'miss');
    await record(orgId, 'ask', 'miss');
    await record(orgId, 'ask', 'semantic');
    const today = utcDay();
    const response = await call('/v1/ai/usage', { headers: auth });
    expect(response.status, await response.clone().text()).toBe(200);
    const report = (await response.json()) as Report;
    expect(report.to).toBe(today);
    expect(report.days).toEqual([
      {
        day: today,
        kind: 'ask',
        model: MODEL,
        engine: 'model',
        calls: 2,
        cache_hits: 0,
        semantic_hits: 1,
        input_tokens: 1000,
        output_tokens: 200,
        cost_usd: 0.000744,
      },
      {
        day: today,
        kind: 'enrich',
        model: MODEL,
        engine: 'model',
        calls: 4,
        cache_hits: 2,
        semantic_hits: 0,
        input_tokens: 2000,
        output_tokens: 400,
        cost_usd: 0.001488,
      },
    ]);
    expect(report.totals).toMatchObject({
      calls: 6,
      cache_hits: 2,
      input_tokens: 3000,
      cost_usd: 0.002232,
      cache_hit_rate: 0.5,
    });
    expect(report.totals.by_kind.enrich).toMatchObject({ calls: 4, cache_hit_rate: 0.5 });
    expect(report.totals.by_kind.ask).toMatchObject({ calls: 2, cache_hit_rate: 0.5 });

    // A window that ends before today leaves today out.
    const yesterday = utcDay(new Date(Date.now() - 86_400_000));
    const before = await call(`/v1/ai/usage?from=${yesterday}&to=${yesterday}`, {
      headers: auth,
    });
    expect(await before.json()).toMatchObject({
      from: yesterday,
      to: yesterday,
      days: [],
      totals: { calls: 0, cache_hit_rate: null, cost_usd: 0 },
    });
  });

  it('shows an organisation only its own usage', async () => {
    const a = await signedIn('ai-usage-a');
    const b = await signedIn('ai-usage-b');
    await record(a.orgId, 'enrich', 'miss');
    const response = await call('/v1/ai/usage', { headers: b.auth });
    expect(await response.json()).toMatchObject({ days: [], totals: { calls: 0 } });
  });

  it.each([
    ['from=yesterday', 'query.from'],
    ['to=2026-13-01', 'query.to'],
    ['from=2026-12-05&to=2026-12-01', 'query.from'],
    ['from=2024-01-01&to=2026-12-01', 'query.from'],
    ['to=1999-01-01T00:00:00Z', 'query.to'],
  ])('answers 400 naming the parameter for %s', async (query, path) => {
    const { auth } = await signedIn('ai-usage-bad');
    const problem = await expectProblem(
      await call(`/v1/ai/usage?${query}`, { headers: auth }),
      400,
    );
    expect(problem.errors?.map((e) => e.path)).toContain(path);
  });

  it('answers 403 to an editor', async () => {
    const { auth } = await signedIn('ai-usage-editor', 'editor');
    await expectProblem(await call('/v1/ai/usage', { headers: auth }), 403);
  });
});
