import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { evaluateSnapshot } from '../../../../shared/flags/evaluate-set.ts';
import { bulkEtag, ofrepContext, ofrepResult } from '../../../../shared/flags/ofrep.ts';
import { getFlagSet } from '../../../../shared/flags/snapshot.ts';
import type { AppBindings } from '../../app.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses, z } from '../../openapi.ts';
import { ofrepParseBody } from './parse.ts';
import {
  OfrepBulkFailureSchema,
  OfrepFailureSchema,
  OfrepRequestSchema,
  OfrepSuccessSchema,
} from './schema.ts';

const BulkSuccessSchema = z
  .object({ flags: z.array(z.union([OfrepSuccessSchema, OfrepFailureSchema])) })
  .openapi('OfrepBulkEvaluationSuccess');

export const route = createRoute({
  method: 'post',
  path: '/ofrep/v1/evaluate/flags',
  tags: ['flags'],
  summary: 'Evaluate every flag (OFREP)',
  description:
    "The OpenFeature Remote Evaluation Protocol's bulk evaluation, for client SDKs with an OFREP " +
    'provider: every live flag for one context, each a success or a failure. The `ETag` names ' +
    'the flag-set version and the context: `If-None-Match` with it answers `304` until either ' +
    'changes (a stale answer, with KV and Postgres down, carries none). A `400` `{errorCode, ' +
    'errorDetails}` when the whole request fails: a body that is not JSON (`PARSE_ERROR`), a ' +
    'context that is not an object (`INVALID_CONTEXT`), no snapshot reachable (`GENERAL`). ' +
    'Needs `flags:evaluate`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('flags:evaluate'), ofrepParseBody] as const,
  request: {
    headers: z.object({
      'if-none-match': z
        .string()
        .max(200)
        .optional()
        .openapi({
          param: { name: 'if-none-match', in: 'header' },
          description: 'The `ETag` of a previous answer: `304` while it still holds.',
          example: '"12.3f9a0c1d2e4b5a6978812345"',
        }),
    }),
    body: { required: false, content: { 'application/json': { schema: OfrepRequestSchema } } },
  },
  responses: {
    200: {
      description: 'One answer per live flag.',
      headers: z.object({ ETag: z.string().openapi({ example: '"12.3f9a0c1d2e4b5a6978812345"' }) }),
      content: { 'application/json': { schema: BulkSuccessSchema } },
    },
    304: { description: 'Nothing changed since the `If-None-Match` ETag.' },
    400: {
      description: 'The evaluation failed: the error code says why.',
      content: { 'application/json': { schema: OfrepBulkFailureSchema } },
    },
    ...problemResponses('UNAUTHORIZED', 'FORBIDDEN', 'RATE_LIMITED', ...COMMON_PROBLEMS),
  },
});

export function registerOfrepEvaluateFlags<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const context = ofrepContext(await c.req.json().catch(() => undefined));
    if (context === undefined) {
      return c.json(
        {
          errorCode: 'INVALID_CONTEXT' as const,
          errorDetails: 'context must be an object whose targetingKey is a string',
        },
        400,
      );
    }
    const snapshot = await getFlagSet(c.var.services, orgId);
    if (!snapshot.ok) {
      return c.json(
        {
          errorCode: 'GENERAL' as const,
          errorDetails: 'flags are unavailable: no snapshot could be loaded',
        },
        400,
      );
    }
    const version = snapshot.set.version;
    const etag = snapshot.stale ? undefined : bulkEtag(version, context);
    const ifNoneMatch = c.req.valid('header')['if-none-match'];
    if (etag !== undefined && ifNoneMatch !== undefined) {
      const tags = ifNoneMatch.split(',').map((tag) => tag.trim().replace(/^W\//, ''));
      if (tags.includes(etag) || tags.includes('*')) return c.body(null, 304, { ETag: etag });
    }
    const flags = evaluateSnapshot(snapshot, context).map((e) => ofrepResult(e, version));
    return c.json(BulkSuccessSchema.parse({ flags }), 200, etag ? { ETag: etag } : {});
  });
}
