import { describe, expect, it } from 'vitest';
import { buildMessages } from '../../../shared/ai/prompt.ts';
import { createWorkersAiProvider } from '../../../shared/ai/provider.ts';
import { EnrichmentSchema, ModelOutputSchema } from '../../../shared/ai/schema.ts';
import { expectFailure, run, TOKEN, useWorkersAi } from './harness.ts';

const ai = useWorkersAi();

const MODEL = '@cf/meta/llama-3.3-70b-instruct-fp8-fast';
const DOCUMENT = `Project Atlas: weekly meeting minutes
Attendees: Sarah Chen, Omar Haddad

The billing migration is on track for January.
There is a critical risk that the payment gateway certification slips past launch.
Action items:
- Omar to send the revised cut-over plan by Friday.
- Sarah will book the load test on 2026-12-14.`;

const messages = () =>
  buildMessages({
    text: DOCUMENT,
    tasks: ['summaries', 'action_items', 'risks', 'tags', 'category', 'document_type'],
    locale: 'en',
    categories: ['Finance', 'Engineering'],
    referenceDate: '2026-12-05',
  });

const breaker = { run: <T>(fn: () => Promise<T>) => fn() };

describe('the local Workers AI instruction models', () => {
  it('answers json_schema requests in the envelope with the JSON object and a usage block', async () => {
    const answer = await run(ai.service, MODEL, {
      messages: messages(),
      response_format: { type: 'json_schema', json_schema: { type: 'object', properties: {} } },
      max_tokens: 2048,
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ success: true, errors: [], messages: [] });
    const result = answer.body.result as { response: unknown; usage: Record<string, number> };
    // An empty `properties` keeps nothing: the schema's top-level properties are honoured.
    expect(result.response).toEqual({});
    expect(result.usage.prompt_tokens).toBeGreaterThan(50);
    expect(result.usage.total_tokens).toBe(
      (result.usage.prompt_tokens as number) + (result.usage.completion_tokens as number),
    );
  });

  it('gives every field of the enrichment schema, found by the extractive engine', async () => {
    const answer = await run(ai.service, MODEL, {
      messages: messages(),
      response_format: { type: 'json_object' },
      max_tokens: 2048,
    });
    const output = ModelOutputSchema.parse((answer.body.result as { response: unknown }).response);
    expect(output.document_type).toBe('minutes');
    expect(output.action_items).toEqual([
      {
        text: 'Omar to send the revised cut-over plan by Friday.',
        owner: 'Omar',
        due_date: '2026-12-11',
      },
      {
        text: 'Sarah will book the load test on 2026-12-14.',
        owner: 'Sarah',
        due_date: '2026-12-14',
      },
    ]);
    expect(output.risks).toEqual([
      expect.objectContaining({
        severity: 'high',
        passage: expect.stringContaining('critical risk'),
      }),
    ]);
  });

  it('answers the JSON as text without response_format, as a model writes it', async () => {
    const answer = await run(ai.service, MODEL, { messages: messages(), max_tokens: 4096 });
    const { response } = answer.body.result as { response: unknown };
    expect(typeof response).toBe('string');
    expect(ModelOutputSchema.safeParse(JSON.parse(response as string)).success).toBe(true);
  });

  it('cuts an answer longer than max_tokens, which then no longer parses', async () => {
    const answer = await run(ai.service, MODEL, {
      messages: messages(),
      response_format: { type: 'json_object' },
      max_tokens: 10,
    });
    const result = answer.body.result as {
      response: unknown;
      usage: { completion_tokens: number };
    };
    expect(typeof result.response).toBe('string');
    expect(() => JSON.parse(result.response as string)).toThrow();
    expect(result.usage.completion_tokens).toBe(10);
  });

  it('is deterministic: the same request gives the same answer', async () => {
    const body = {
      messages: messages(),
      response_format: { type: 'json_object' },
      max_tokens: 2048,
    };
    const [a, b] = await Promise.all([run(ai.service, MODEL, body), run(ai.service, MODEL, body)]);
    expect(a.body).toEqual(b.body);
  });

  it('refuses a request without messages or prompt with a 5006', async () => {
    expectFailure(await run(ai.service, MODEL, { text: 'hi' }), 400, 5006, /'messages'/);
    expectFailure(await run(ai.service, MODEL, { messages: [] }), 400, 5006, /at least 1/);
    expectFailure(
      await run(ai.service, MODEL, { messages: [{ role: 'user', content: 3 }] }),
      400,
      5006,
      "Type mismatch of '/messages/0/content', 'number' not in 'string'",
    );
  });

  it('refuses an unknown response_format type and a bad max_tokens with a 5006', async () => {
    expectFailure(
      await run(ai.service, MODEL, { prompt: 'x', response_format: { type: 'xml' } }),
      400,
      5006,
      /'\/response_format\/type'/,
    );
    expectFailure(
      await run(ai.service, MODEL, { prompt: 'x', response_format: { type: 'json_schema' } }),
      400,
      5006,
      /json_schema/,
    );
    expectFailure(
      await run(ai.service, MODEL, { prompt: 'x', max_tokens: 0 }),
      400,
      5006,
      /max_tokens/,
    );
  });

  it('refuses input and max_tokens beyond the context window with a 5021', async () => {
    expectFailure(
      await run(ai.service, MODEL, { prompt: 'word '.repeat(30_000) }),
      400,
      5021,
      /context window limit \(24000\)/,
    );
  });

  it('checks the token and the account before the model', async () => {
    expectFailure(await run(ai.service, MODEL, { prompt: 'x' }, { token: null }), 401, 10_000);
    expectFailure(await run(ai.service, MODEL, { prompt: 'x' }, { token: 'wrong' }), 401, 10_000);
    expectFailure(await run(ai.service, MODEL, { prompt: 'x' }, { account: 'other' }), 403, 10_000);
  });

  it('lists the instruction models among those it serves for an unknown model', async () => {
    const message = expectFailure(
      await run(ai.service, '@cf/meta/nope', { prompt: 'x' }),
      400,
      5007,
    );
    expect(message).toContain(MODEL);
    expect(message).toContain('@cf/baai/bge-m3');
  });

  it("serves Sift's production provider end to end, validated, with spans found in the input", async () => {
    const provider = createWorkersAiProvider({
      accountId: ai.service.accountId,
      apiToken: TOKEN,
      apiUrl: ai.service.apiUrl,
      retries: 0,
      breaker,
    });
    const result = EnrichmentSchema.parse(
      await provider.enrich(DOCUMENT, {
        referenceDate: '2026-12-05',
        categories: ['Finance', 'Engineering'],
      }),
    );
    expect(result).toMatchObject({ engine: 'model', model: MODEL, prompt_version: 'enrich-v1' });
    expect(result.fallback_reason).toBeNull();
    expect(result.tokens.input).toBeGreaterThan(0);
    expect(result.estimated_cost_usd).toBeGreaterThan(0);
    const [first] = result.action_items ?? [];
    expect(first?.span).not.toBeNull();
    expect(DOCUMENT.slice(first?.span?.start, first?.span?.end)).toBe(first?.text);
  });
});
