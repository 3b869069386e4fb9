import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context, Schema } from 'hono';
import { streamSSE } from 'hono/streaming';
import { type Answerer, createWorkersAiAnswerer } from '../../../../shared/ai/answer.ts';
import { askDocuments } from '../../../../shared/ask/ask.ts';
import { breaker } from '../../../../shared/resilience/circuit-breaker.ts';
import type { Services } from '../../../../shared/services.ts';
import type { AppBindings } from '../../app.ts';
import { onError } from '../../errors.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { AskBody, AskResponseSchema } from './schema.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/ask',
  tags: ['documents'],
  summary: 'Ask a question of the documents',
  description:
    'Answers a question from the documents the caller may see (private ones only for their ' +
    'uploader, owners and admins), with citations: document, title, pages, chunk and the exact ' +
    'words cited with their offsets. Passages come from the same hybrid retrieval as document ' +
    'search, limited to `document_ids`, `category_id` and `locale` when given; only passages ' +
    "that hold half of the question's terms or are close to it in meaning count, and without " +
    'one the answer is `status: "no_answer"` (null, with an explanation), never a guess. The ' +
    'answer is written by a Workers AI model (JSON with the passages it relies on), or by the ' +
    'extractive engine (the sentences most like the question) offline, over budget or when the ' +
    'models fail (`engine`, `fallback_reason`). Answers are cached for a day per organisation, ' +
    'documents generation, visibility and filters: the same question (`cached: "exact"`) or a ' +
    'paraphrase (`cached: "semantic"`, cosine ≥ 0.92, naming the question first answered). With ' +
    '`Accept: text/event-stream` the answer streams as server-sent events: `retrieval` (the ' +
    'passages found, as citations of whole chunks, before the answer is written), `delta` ' +
    '(pieces of the answer text), then `done` (the whole response); a ' +
    'failure once the stream has started is an `error` event carrying the problem. Needs ' +
    '`documents:read`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('documents:read')] as const,
  request: { body: { content: { 'application/json': { schema: AskBody } }, required: true } },
  responses: {
    200: {
      description: 'The answer (or `no_answer`), its citations, engine, cost and cache outcome.',
      content: {
        'application/json': { schema: AskResponseSchema },
        'text/event-stream': {
          schema: z.string().openapi({
            description: 'Events `retrieval`, `delta`…, `done` (or `error`), each data JSON.',
          }),
        },
      },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'RATE_LIMITED',
      'SERVICE_UNAVAILABLE',
      ...COMMON_PROBLEMS,
    ),
  },
});

/**
 * The answerer of the deployment: the Workers AI models (`AI_MODEL`, `AI_FALLBACK_MODEL`; the
 * local cloud's offline) through the `llm` breaker, asking the budget; the extractive engine when
 * they fail.
 */
function answererFor(services: Services) {
  return (budget: (estimate: { usd: number }) => Promise<boolean>): Answerer => {
    const env = services.env;
    return createWorkersAiAnswerer({
      apiUrl: env.WORKERS_AI_API_URL,
      accountId: env.WORKERS_AI_ACCOUNT_ID,
      apiToken: env.WORKERS_AI_API_TOKEN,
      model: env.AI_MODEL,
      fallbackModel: env.AI_FALLBACK_MODEL === 'none' ? null : env.AI_FALLBACK_MODEL,
      breaker: breaker('llm', services.logger),
      logger: services.logger,
      budget: ({ usd }) => budget({ usd }),
    });
  };
}

/** Words of the answer per `delta` event. */
const DELTA_WORDS = 8;

/** The answer's text in pieces of a few words, spaces kept, so the pieces join back exactly. */
export function answerPieces(text: string): string[] {
  const words = text.match(/\S+\s*/gu) ?? [];
  const pieces: string[] = [];
  for (let i = 0; i < words.length; i += DELTA_WORDS) {
    pieces.push(words.slice(i, i + DELTA_WORDS).join(''));
  }
  return pieces;
}

/** The problem document an error would have answered, for an `error` event. */
async function problemOf(c: Context<AppBindings>, error: unknown): Promise<unknown> {
  const response = await onError(error as Error, c);
  return response.json();
}

export function registerAskPost<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const body = c.req.valid('json');
    const services = c.var.services;
    const principal = c.var.principal!;
    const input = {
      question: body.question,
      documentIds: body.document_ids,
      categoryId: body.category_id,
      locale: body.locale,
      topK: body.top_k,
    };
    const accept = c.req.header('Accept') ?? '';
    if (!accept.includes('text/event-stream')) {
      const result = await askDocuments(services, principal, input, answererFor(services));
      return c.json(AskResponseSchema.parse(result), 200);
    }
    // The handler's typed answers are JSON; a stream is a plain Response to the router.
    return streamSSE(c, async (stream) => {
      let id = 0;
      const send = (event: string, data: unknown) =>
        stream.writeSSE({ event, data: JSON.stringify(data), id: String(++id) });
      try {
        const result = await askDocuments(services, principal, input, answererFor(services), {
          onRetrieval: (citations) => send('retrieval', { citations }),
        });
        for (const piece of answerPieces(result.answer ?? '')) await send('delta', { text: piece });
        await send('done', AskResponseSchema.parse(result));
      } catch (error) {
        await send('error', await problemOf(c, error));
      }
    }) as unknown as ReturnType<typeof c.json<z.infer<typeof AskResponseSchema>, 200>>;
  });
}
