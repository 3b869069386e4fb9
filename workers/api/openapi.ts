import { z } from '@hono/zod-openapi';
import { ERRORS, type ErrorCode, ProblemSchema } from '../../shared/errors.ts';

/**
 * The problem document as a named OpenAPI component: an object made here over the shared shape
 * (as `routes/content/schema.ts` does), since `shared/errors.ts` may be loaded before
 * `@hono/zod-openapi` has given zod its `.openapi()`.
 */
export const Problem = z
  .object(ProblemSchema.shape)
  .catchall(z.unknown())
  .openapi('Problem', {
    description: 'An RFC 9457 problem: what went wrong, a stable `code`, and the request id.',
    example: {
      type: '/problems/validation-failed',
      title: 'Validation failed',
      status: 400,
      detail: 'body.translations.en.title: must not be empty',
      code: 'VALIDATION_FAILED',
      request_id: 'req_01jd5x3k7yf0v9r2m4q6s8t1wz',
      instance: '/v1/content',
      errors: [
        { path: 'body.translations.en.title', message: 'must not be empty', code: 'too_small' },
      ],
    },
  });

/** OpenAPI `responses` entries for the problems a route can answer, by error code. */
export function problemResponses(...codes: ErrorCode[]) {
  const responses: Record<
    number,
    { description: string; content: Record<string, { schema: typeof Problem }> }
  > = {};
  for (const code of codes) {
    const { status, title } = ERRORS[code];
    const existing = responses[status];
    responses[status] = {
      description: existing ? `${existing.description}; ${title}` : title,
      content: { 'application/problem+json': { schema: Problem } },
    };
  }
  return responses;
}

/** The problems every route can answer (malformed input, misconfiguration, outages). */
export const COMMON_PROBLEMS: ErrorCode[] = ['INTERNAL', 'MISCONFIGURED'];

export { z };
