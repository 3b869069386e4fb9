import { z } from '@hono/zod-openapi';
import { CONTEXT_LIMITS } from '../../../../shared/flags/context.ts';
import { ERROR_CODES, REASONS } from '../../../../shared/flags/evaluate.ts';
import { FLAG_LIMITS } from '../../../../shared/flags/schema.ts';

export const OfrepRequestSchema = z
  .looseObject({
    context: z
      .record(z.string().max(CONTEXT_LIMITS.nameLength), z.unknown())
      .nullable()
      .optional()
      .openapi({
        description:
          'The evaluation context: `targetingKey` and attributes (strings, numbers, booleans, ' +
          'lists of strings; other values are ignored by conditions).',
        example: { targetingKey: 'user-42', country: 'SA' },
      }),
  })
  .openapi('OfrepEvaluationRequest');

export const OfrepSuccessSchema = z
  .object({
    key: z.string().openapi({ example: 'new-checkout' }),
    value: z.unknown().openapi({ example: true }),
    reason: z.enum(REASONS),
    variant: z.string().openapi({ example: 'on' }),
    metadata: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).openapi({
      example: { flagSetVersion: 12, rule: 0 },
    }),
  })
  .openapi('OfrepEvaluationSuccess');

export const OfrepFailureSchema = z
  .object({
    key: z.string().openapi({ example: 'new-checkout' }),
    errorCode: z.enum(ERROR_CODES),
    errorDetails: z.string(),
  })
  .openapi('OfrepEvaluationFailure');

export const OfrepBulkFailureSchema = z
  .object({ errorCode: z.enum(ERROR_CODES), errorDetails: z.string() })
  .openapi('OfrepBulkEvaluationFailure');

export const OfrepKeyParamsSchema = z.object({
  key: z
    .string()
    .min(1)
    .max(FLAG_LIMITS.keyLength)
    .openapi({ param: { name: 'key', in: 'path' }, example: 'new-checkout' }),
});
