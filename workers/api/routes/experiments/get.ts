import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { noneMatch } from '../../content-read.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import {
  ETAG_HEADER,
  ExperimentIdParamsSchema,
  ExperimentSchema,
  experimentEtag,
  experimentView,
  findExperiment,
} from './schema.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/experiments/{id}',
  tags: ['experiments'],
  summary: 'Get an experiment',
  description:
    'One experiment with its `ETag` (`If-None-Match` with it answers `304`). Needs ' +
    '`settings:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('settings:manage')] as const,
  request: { params: ExperimentIdParamsSchema },
  responses: {
    200: {
      description: 'The experiment.',
      headers: ETAG_HEADER,
      content: { 'application/json': { schema: ExperimentSchema } },
    },
    304: { description: 'Not modified.', headers: ETAG_HEADER },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'NOT_FOUND',
      'RATE_LIMITED',
      ...COMMON_PROBLEMS,
    ),
  },
});

export function registerExperimentsGet<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const row = await findExperiment(c.var.services.db, orgId, c.req.valid('param').id);
    const etag = experimentEtag(row);
    c.header('ETag', etag);
    if (noneMatch(c.req.header('If-None-Match'), etag)) return c.body(null, 304);
    return c.json(experimentView(row), 200);
  });
}
