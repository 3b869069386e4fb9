import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { evaluateSnapshot } from '../../../../shared/flags/evaluate-set.ts';
import { ofrepContext, ofrepResult } from '../../../../shared/flags/ofrep.ts';
import { getFlagSet } from '../../../../shared/flags/snapshot.ts';
import type { AppBindings } from '../../app.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { ofrepParseBody } from './parse.ts';
import {
  OfrepFailureSchema,
  OfrepKeyParamsSchema,
  OfrepRequestSchema,
  OfrepSuccessSchema,
} from './schema.ts';

export const route = createRoute({
  method: 'post',
  path: '/ofrep/v1/evaluate/flags/{key}',
  tags: ['flags'],
  summary: 'Evaluate one flag (OFREP)',
  description:
    "The OpenFeature Remote Evaluation Protocol's single evaluation, for server SDKs with an " +
    'OFREP provider: `{"context": {...}}` → `{key, value, reason, variant, metadata}`. An ' +
    'unknown or archived flag is a `404` `FLAG_NOT_FOUND`; an evaluation error (a rollout ' +
    'without `targetingKey`: `TARGETING_KEY_MISSING`; a context that is not an object: ' +
    '`INVALID_CONTEXT`; a body that is not JSON: `PARSE_ERROR`; no snapshot reachable: ' +
    '`GENERAL`) a `400` `{key, errorCode, ' +
    'errorDetails}`, on which the SDK returns the code default. Authenticates with ' +
    '`Authorization: Bearer` or `X-API-Key`. Needs `flags:evaluate`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('flags:evaluate'), ofrepParseBody] as const,
  request: {
    params: OfrepKeyParamsSchema,
    body: { required: false, content: { 'application/json': { schema: OfrepRequestSchema } } },
  },
  responses: {
    200: {
      description: 'The evaluation.',
      content: { 'application/json': { schema: OfrepSuccessSchema } },
    },
    400: {
      description: 'The evaluation failed: the error code says why.',
      content: { 'application/json': { schema: OfrepFailureSchema } },
    },
    404: {
      description: 'No such flag (`FLAG_NOT_FOUND`).',
      content: { 'application/json': { schema: OfrepFailureSchema } },
    },
    ...problemResponses('UNAUTHORIZED', 'FORBIDDEN', 'RATE_LIMITED', ...COMMON_PROBLEMS),
  },
});

export function registerOfrepEvaluateFlag<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const { key } = c.req.valid('param');
    const context = ofrepContext(await c.req.json().catch(() => undefined));
    if (context === undefined) {
      return c.json(
        {
          key,
          errorCode: 'INVALID_CONTEXT' as const,
          errorDetails: 'context must be an object whose targetingKey is a string',
        },
        400,
      );
    }
    const snapshot = await getFlagSet(c.var.services, orgId);
    const [evaluation] = evaluateSnapshot(snapshot, context, [key]);
    const result = ofrepResult(evaluation!, snapshot.ok ? snapshot.set.version : null);
    if ('errorCode' in result) {
      const failure = OfrepFailureSchema.parse(result);
      return failure.errorCode === 'FLAG_NOT_FOUND' ? c.json(failure, 404) : c.json(failure, 400);
    }
    return c.json(OfrepSuccessSchema.parse(result), 200);
  });
}
