import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import type { Schema } from 'hono';
import { accessRules } from '../../../../shared/db/schema/index.ts';
import { AppError } from '../../../../shared/errors.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { publishRules } from './publish.ts';
import { AccessRuleParamsSchema } from './schema.ts';

export const route = createRoute({
  method: 'delete',
  path: '/v1/admin/access-rules/{id}',
  tags: ['admin'],
  summary: 'Delete an access rule',
  description:
    'Removes a rule from the allow or deny list; in force at once in this isolate and within a ' +
    'minute everywhere. Super admins only; audited as `access_rule.delete`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('admin', { user: true, liveSession: true })] as const,
  request: { params: AccessRuleParamsSchema },
  responses: {
    204: { description: 'Deleted.' },
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

export function registerAdminAccessRulesDelete<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { id } = c.req.valid('param');
    const [row] = await c.var.services.db
      .delete(accessRules)
      .where(eq(accessRules.id, id))
      .returning();
    if (!row) throw new AppError({ code: 'NOT_FOUND', message: `No access rule ${id}.` });
    await publishRules(c);
    audit(c, {
      action: 'access_rule.delete',
      orgId: null,
      targetType: 'access_rule',
      targetId: row.id,
      data: {
        list: row.list,
        subject_type: row.subjectType,
        value: row.value,
        reason: row.reason,
      },
    });
    return c.body(null, 204);
  });
}
