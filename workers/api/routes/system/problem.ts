import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { AppError, ERRORS, ErrorCode, problemType } from '../../../../shared/errors.ts';
import type { AppBindings } from '../../app.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';

const ProblemTypeSchema = z
  .object({
    type: z.string(),
    code: ErrorCode,
    status: z.number().int(),
    title: z.string(),
  })
  .openapi('ProblemType');

export const route = createRoute({
  method: 'get',
  path: '/problems/{code}',
  tags: ['system'],
  summary: 'Describe a problem type',
  description: "Every problem's `type` is a link here: the stable code, its HTTP status and title.",
  request: {
    params: z.object({
      code: z
        .string()
        .openapi({ param: { name: 'code', in: 'path' }, example: 'validation-failed' }),
    }),
  },
  responses: {
    200: {
      description: 'The problem type.',
      content: { 'application/json': { schema: ProblemTypeSchema } },
    },
    ...problemResponses('NOT_FOUND', ...COMMON_PROBLEMS),
  },
});

export function registerSystemProblem<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, (c) => {
    const raw = c.req.valid('param').code;
    const parsed = ErrorCode.safeParse(raw.toUpperCase().replaceAll('-', '_'));
    if (!parsed.success) {
      throw new AppError({ code: 'NOT_FOUND', message: `There is no problem type ${raw}.` });
    }
    const code = parsed.data;
    return c.json(ProblemTypeSchema.parse({ type: problemType(code), code, ...ERRORS[code] }), 200);
  });
}
