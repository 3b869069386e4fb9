import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import {
  AiOutputError,
  createExtractiveProvider,
  createWorkersAiProvider,
  type WorkersAiProviderOptions,
} from '../../../../shared/ai/provider.ts';
import { EnrichmentSchema } from '../../../../shared/ai/schema.ts';
import { CircuitBreaker } from '../../../../shared/resilience/circuit-breaker.ts';
import {
  fakeWorkersAi,
  passThroughBreaker,
  trippedBreaker,
  workersAiEnvelope,
} from '../../../helpers/workers-ai-fakes.ts';

const PRIMARY = '@cf/meta/llama-3.3-70b-instruct-fp8-fast';
const FALLBACK = '@cf/meta/llama-3.1-8b-instruct';

const DOCUMENT = `Incident report: payment API outage
On 3 December the payment API was down for 42 minutes after a failed certificate rotation.
There is a severe risk of a repeat because the rotation script has no rollback.
Action items:
- Lina Haddad to add a rollback step to the rotation script by Friday.
- The platform team must publish the post-mortem within 5 days.`;
const OPTIONS = { referenceDate: '2026-12-05', categories: ['Payments', 'Marketing'] };

function provider(overrides: Partial<WorkersAiProviderOptions> = {}) {
  return createWorkersAiProvider({
    accountId: env.WORKERS_AI_ACCOUNT_ID,
    apiToken: env.WORKERS_AI_API_TOKEN,
    apiUrl: env.WORKERS_AI_API_URL,
    breaker: passThroughBreaker,
    retries: 1,
    ...overrides,
  });
}

describe('the Workers AI provider against the local cloud', () => {
  it('returns a validated enrichment written by the model, with spans in the input', async () => {
    const result = EnrichmentSchema.parse(await provider().enrich(DOCUMENT, OPTIONS));
    expect(result).toMatchObject({
      engine: 'model',
      model: PRIMARY,
      prompt_version: 'enrich-v1',
      fallback_reason: null,
      document_type: 'report',
      category: 'Payments',
      language: 'en',
    });
    expect(result.tokens.input).toBeGreaterThan(100);
    expect(result.tokens.output).toBeGreaterThan(10);
    expect(result.estimated_cost_usd).toBeGreaterThan(0);
    expect(result.action_items).toEqual([
      expect.objectContaining({ owner: 'Lina Haddad', due_date: '2026-12-11' }),
      expect.objectContaining({ owner: 'The platform team', due_date: '2026-12-10' }),
    ]);
    for (const item of [...(result.action_items ?? []), ...(result.risks ?? [])]) {
      expect(item.span).not.toBeNull();
    }
    expect(result.risks?.map((r) => r.severity)).toContain('high');
  });

  it('leaves the fields of tasks not asked for null', async () => {
    const result = await provider().enrich(DOCUMENT, { ...OPTIONS, tasks: ['risks'] });
    expect(result.risks?.length).toBeGreaterThan(0);
    expect(result).toMatchObject({
      summaries: null,
      action_items: null,
      tags: null,
      category: null,
    });
  });
});

describe('the Workers AI provider when the model fails', () => {
  it('retries a 500, then asks the fallback model, then answers with the extractive engine', async () => {
    const { fetcher, asked } = fakeWorkersAi(() => workersAiEnvelope(null, 500));
    const result = await provider({ fetch: fetcher }).enrich(DOCUMENT, OPTIONS);
    expect(asked).toEqual([PRIMARY, PRIMARY, FALLBACK, FALLBACK]);
    expect(result).toMatchObject({
      engine: 'extractive',
      fallback_reason: 'provider_error',
      model: 'sift/extractive',
      estimated_cost_usd: 0,
    });
    expect(EnrichmentSchema.parse(result).action_items).toHaveLength(2);
  });

  it('uses the fallback model when the first keeps failing, and records it', async () => {
    const local = provider();
    const { fetcher, asked } = fakeWorkersAi((model) =>
      model === PRIMARY
        ? workersAiEnvelope(null, 503)
        : fetch(`${env.WORKERS_AI_API_URL}/accounts/${env.WORKERS_AI_ACCOUNT_ID}/ai/run/${model}`, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${env.WORKERS_AI_API_TOKEN}`,
              'content-type': 'application/json',
            },
            body: JSON.stringify({
              messages: [{ role: 'user', content: DOCUMENT }],
              response_format: { type: 'json_object' },
              max_tokens: 2048,
            }),
          }),
    );
    const result = await provider({ fetch: fetcher }).enrich(DOCUMENT, OPTIONS);
    expect(asked).toEqual([PRIMARY, PRIMARY, FALLBACK]);
    expect(result).toMatchObject({ engine: 'model', model: FALLBACK });
    expect(local.model).toBe(`workers-ai:${PRIMARY}`);
  });

  it('answers with the extractive engine when the model answers text that is not JSON', async () => {
    const { fetcher, asked } = fakeWorkersAi(() =>
      workersAiEnvelope({ response: 'Sure! Here is a summary…' }),
    );
    const result = await provider({ fetch: fetcher }).enrich(DOCUMENT, OPTIONS);
    // An invalid answer is not retried: asking the same model the same thing gives the same.
    expect(asked).toEqual([PRIMARY, FALLBACK]);
    expect(result).toMatchObject({ engine: 'extractive', fallback_reason: 'invalid_output' });
  });

  it('answers with the extractive engine when the JSON does not fit the schema', async () => {
    const { fetcher } = fakeWorkersAi(() =>
      workersAiEnvelope({ response: { summaries: 'short', action_items: [{ owner: 'x' }] } }),
    );
    const result = await provider({ fetch: fetcher, fallbackModel: null }).enrich(
      DOCUMENT,
      OPTIONS,
    );
    expect(result).toMatchObject({ engine: 'extractive', fallback_reason: 'invalid_output' });
  });

  it('accepts JSON mode answers given as a fenced string', async () => {
    const base = await createExtractiveProvider().enrich(DOCUMENT, OPTIONS);
    const output = {
      summaries: { short: 's', medium: 'm', detailed: 'd' },
      action_items: (base.action_items ?? []).map(({ text, owner, due_date }) => ({
        text,
        owner,
        due_date,
      })),
      risks: [],
      tags: ['certificate rotation'],
      category: 'payments',
      document_type: 'report',
    };
    const { fetcher } = fakeWorkersAi(() =>
      workersAiEnvelope({
        response: `\`\`\`json\n${JSON.stringify(output)}\n\`\`\``,
        usage: { prompt_tokens: 900, completion_tokens: 120 },
      }),
    );
    const result = await provider({ fetch: fetcher }).enrich(DOCUMENT, OPTIONS);
    expect(result).toMatchObject({
      engine: 'model',
      tokens: { input: 900, output: 120 },
      // 900 × 0.293 + 120 × 2.253 per million.
      estimated_cost_usd: 0.000534,
      // The given category's own spelling.
      category: 'Payments',
    });
  });

  it('answers with the extractive engine without calling while the circuit is open', async () => {
    const { fetcher, asked } = fakeWorkersAi(() => workersAiEnvelope(null, 500));
    const tripped = await trippedBreaker('ai');
    const result = await provider({ fetch: fetcher, breaker: tripped }).enrich(DOCUMENT, OPTIONS);
    expect(asked).toEqual([]);
    expect(result).toMatchObject({ engine: 'extractive', fallback_reason: 'circuit_open' });
  });

  it('answers with the extractive engine when the budget refuses the call', async () => {
    const { fetcher, asked } = fakeWorkersAi(() => workersAiEnvelope(null, 500));
    const seen: { model: string; usd: number }[] = [];
    const result = await provider({
      fetch: fetcher,
      budget: (estimate) => {
        seen.push(estimate);
        return false;
      },
    }).enrich(DOCUMENT, OPTIONS);
    expect(asked).toEqual([]);
    expect(seen.map((s) => s.model)).toEqual([PRIMARY, FALLBACK]);
    expect(seen[0]?.usd).toBeGreaterThan(0);
    expect(result).toMatchObject({ engine: 'extractive', fallback_reason: 'over_budget' });
  });

  it('asks the call’s own budget instead of the provider’s, and lets a cheaper model through', async () => {
    const providerBudget: string[] = [];
    const callBudget: string[] = [];
    const result = await provider({
      budget: ({ model }) => {
        providerBudget.push(model);
        return true;
      },
    }).enrich(DOCUMENT, {
      ...OPTIONS,
      // The primary's estimate is over; the fallback, about six times cheaper, is within.
      budget: ({ model, usd }) => {
        callBudget.push(model);
        return model === FALLBACK && usd > 0;
      },
    });
    expect(providerBudget).toEqual([]);
    expect(callBudget).toEqual([PRIMARY, FALLBACK]);
    expect(result).toMatchObject({ engine: 'model', model: FALLBACK, fallback_reason: null });
  });

  it('does not count an invalid answer as a Workers AI fault', async () => {
    const breaker = new CircuitBreaker('llm', { minimumRequests: 1 });
    const { fetcher } = fakeWorkersAi(() => workersAiEnvelope({ response: 'not json' }));
    await provider({ fetch: fetcher, breaker, fallbackModel: null }).enrich(DOCUMENT, OPTIONS);
    expect(breaker.state().state).toBe('closed');
    expect(new AiOutputError('x').name).toBe('AiOutputError');
  });
});
