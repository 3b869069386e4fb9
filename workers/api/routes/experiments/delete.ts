import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import type { Schema } from 'hono';
import { experiments } from '../../../../shared/db/schema/experiments.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { wrongStatus } from './lifecycle.ts';
import {
  ExperimentIdParamsSchema,
  experimentView,
  IfMatchHeaderSchema,
  lockedExperiment,
} from './schema.ts';

export const route = createRoute({
  method: 'delete',
  path: '/v1/experiments/{id}',
  tags: ['experiments'],
  summary: 'Delete a draft experiment',
  description:
    'Removes a draft. An experiment that has run is kept with its exposures (stop it ' +
    'instead): `409`. Audited as `experiment.delete`. Needs `settings:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('settings:manage')] as const,
  request: { params: ExperimentIdParamsSchema, headers: IfMatchHeaderSchema },
  responses: {
    204: { description: 'Deleted.' },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'NOT_FOUND',
      'CONFLICT',
      'PRECONDITION_FAILED',
      'RATE_LIMITED',
      ...COMMON_PROBLEMS,
    ),
  },
});

export function registerExperimentsDelete<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const { id } = c.req.valid('param');
    const ifMatch = c.req.valid('header')['if-match'];
    const deleted = await c.var.services.transaction(async (tx) => {
      const row = await lockedExperiment(tx, orgId, id, ifMatch);
      if (row.status !== 'draft') throw wrongStatus(row, 'deleted', ['draft']);
      await tx.delete(experiments).where(eq(experiments.id, row.id));
      return row;
    });
    audit(c, {
      action: 'experiment.delete',
      targetType: 'experiment',
      targetId: id,
      data: { before: experimentView(deleted), after: null },
    });
    return c.body(null, 204);
  });
}
