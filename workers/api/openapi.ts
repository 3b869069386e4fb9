import { z } from '@hono/zod-openapi';
import { ERRORS, type ErrorCode, ProblemSchema } from '../../shared/errors.ts';

/** The problem document as a named OpenAPI component. */
export const Problem = ProblemSchema.openapi('Problem', {
  description: 'An RFC 9457 problem: what went wrong, a stable `code`, and the request id.',
  example: {
    type: '/problems/validation-failed',
    title: 'Validation failed',
    status: 400,
    detail: 'body.title: Too small: expected string to have >=1 characters',
    code: 'VALIDATION_FAILED',
    request_id: 'req_01jd5x3k7yf0v9r2m4q6s8t1wz',
    instance: '/v1/content',
    errors: [{ path: 'body.title', message: 'Too small: expected string to have >=1 characters' }],
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
