import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { EvaluationContextSchema } from '../../../../shared/flags/context.ts';
import { ERROR_CODES, REASONS } from '../../../../shared/flags/evaluate.ts';
import { evaluateSnapshot } from '../../../../shared/flags/evaluate-set.ts';
import { FlagKeySchema } from '../../../../shared/flags/schema.ts';
import { getFlagSet } from '../../../../shared/flags/snapshot.ts';
import type { AppBindings } from '../../app.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses, z } from '../../openapi.ts';

export const EvaluateRequestSchema = z
  .strictObject({
    context: EvaluationContextSchema.default({}),
    flags: z
      .array(FlagKeySchema)
      .min(1)
      .max(200)
      .optional()
      .openapi({
        description: 'The keys to evaluate (1 to 200); every live flag when absent.',
        example: ['new-checkout', 'search-v2'],
      }),
  })
  .openapi('FlagEvaluateRequest');

const EvaluationSchema = z.object({
  key: z.string().openapi({ example: 'new-checkout' }),
  value: z.unknown().openapi({ example: true }),
  variant: z.string().openapi({ description: 'Empty with an error.', example: 'on' }),
  reason: z.enum(REASONS),
  rule: z.number().int().optional().openapi({
    description: 'The rule that decided (its index; -1 for the allow- or deny-list).',
  }),
  error_code: z.enum(ERROR_CODES).optional(),
  error_message: z.string().optional(),
});

export const EvaluateResponseSchema = z
  .object({
    version: z.number().int().nullable().openapi({
      description: "The organisation's flag-set version evaluated; null when none could be read.",
      example: 12,
    }),
    stale: z.boolean().openapi({
      description: 'True when KV and Postgres were unreachable and an older copy answered.',
    }),
    flags: z.array(EvaluationSchema),
  })
  .openapi('FlagEvaluation');

export const route = createRoute({
  method: 'post',
  path: '/v1/flags/evaluate',
  tags: ['flags'],
  summary: 'Evaluate feature flags',
  description:
    'Evaluates many flags (every live one, or `flags`) for one context, inside the Worker from ' +
    "the organisation's flag-set snapshot (isolate memory, then KV, then Postgres): no network " +
    'call while the copy is under 60 s old. Each answer has its value, variant and OpenFeature ' +
    'reason; an unknown key answers `ERROR`/`FLAG_NOT_FOUND`. With KV and Postgres both down it ' +
    'answers from the last copy it holds (reason `STALE`), or with `ERROR`/`GENERAL`: never a ' +
    '500. Needs `flags:evaluate`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('flags:evaluate')] as const,
  request: {
    body: { required: true, content: { 'application/json': { schema: EvaluateRequestSchema } } },
  },
  responses: {
    200: {
      description: 'One answer per flag.',
      content: { 'application/json': { schema: EvaluateResponseSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'UNSUPPORTED_MEDIA_TYPE',
      'RATE_LIMITED',
      ...COMMON_PROBLEMS,
    ),
  },
});

export function registerFlagsEvaluate<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const body = c.req.valid('json');
    const snapshot = await getFlagSet(c.var.services, orgId);
    const results = evaluateSnapshot(snapshot, body.context, body.flags);
    return c.json(
      EvaluateResponseSchema.parse({
        version: snapshot.ok ? snapshot.set.version : null,
        stale: !snapshot.ok || snapshot.stale,
        flags: results.map((r) => ({
          key: r.key,
          value: r.value,
          variant: r.variant,
          reason: r.reason,
          ...(r.rule === undefined ? {} : { rule: r.rule }),
          ...(r.errorCode === undefined ? {} : { error_code: r.errorCode }),
          ...(r.errorMessage === undefined ? {} : { error_message: r.errorMessage }),
        })),
      }),
      200,
    );
  });
}
