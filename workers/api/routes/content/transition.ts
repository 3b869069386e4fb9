import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AuditAction } from '../../../../shared/audit.ts';
import { principalId } from '../../../../shared/auth/permissions.ts';
import { nextSnapshot } from '../../../../shared/content/compose.ts';
import { TransitionRequest } from '../../../../shared/content/schema.ts';
import { planTransition } from '../../../../shared/content/workflow.ts';
import { AppError } from '../../../../shared/errors.ts';
import type { AppBindings } from '../../app.ts';
import { commitContent } from '../../content-write.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { accepted, IfMatchHeaderSchema, WRITE_RESPONSES } from './accepted.ts';
import { denied, notDeleted } from './plan.ts';
import { ContentIdParamsSchema } from './schema.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/content/{id}/transitions',
  tags: ['content'],
  summary: 'Move a content item through the workflow',
  description:
    'One workflow action: `submit` (draft → in_review; `content:write`), `request_changes` ' +
    '(in_review or approved → draft), `approve` (in_review → approved), `publish` (approved → ' +
    'published, optional `unpublish_at`), `schedule` (approved with `publish_at` in the ' +
    'future: the cron publishes it), `unpublish` (published → approved), `archive` (→ archived; ' +
    'these need `content:publish`) and `restore` (archived → draft; `content:delete`). An action ' +
    "that cannot start from the item's status is a `409` whose `allowed` lists those that can. " +
    'Audited as `content.<action>`. Answers `202` with the new version.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('content:read')] as const,
  request: {
    params: ContentIdParamsSchema,
    headers: IfMatchHeaderSchema,
    body: { required: true, content: { 'application/json': { schema: TransitionRequest } } },
  },
  responses: WRITE_RESPONSES,
});

export function registerContentTransition<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { id } = c.req.valid('param');
    const request = c.req.valid('json');
    const principal = c.var.principal!;
    const [result] = await commitContent(c, [
      {
        id,
        action: 'transition',
        audit: `content.${request.action}` as AuditAction,
        auditData: {
          action: request.action,
          ...(request.comment ? { comment: request.comment } : {}),
        },
        create: false,
        ifMatch: c.req.valid('header')['if-match'],
        plan: async (current) => {
          const item = notDeleted(current!);
          const now = new Date();
          const plan = planTransition(item, request.action, principal.permissions, {
            now,
            ...(request.publish_at !== undefined ? { publishAt: request.publish_at } : {}),
            ...(request.unpublish_at !== undefined ? { unpublishAt: request.unpublish_at } : {}),
          });
          if (plan.ok)
            return nextSnapshot(item, plan.fields, { actorId: principalId(principal), now });
          switch (plan.reason) {
            case 'forbidden':
              throw denied(
                c,
                plan.permission,
                `${plan.action} needs the "${plan.permission}" permission.`,
              );
            case 'invalid_transition':
              throw new AppError({
                code: 'CONFLICT',
                message:
                  `${plan.action} cannot start from ${plan.from}; ` +
                  (plan.allowed.length > 0
                    ? `allowed: ${plan.allowed.join(', ')}.`
                    : 'no action can.'),
                extensions: { status_now: plan.from, action: plan.action, allowed: plan.allowed },
              });
            case 'invalid_schedule':
              throw new AppError({
                code: 'UNPROCESSABLE',
                message: `body.${plan.path}: ${plan.message}`,
                errors: [{ path: `body.${plan.path}`, message: plan.message }],
              });
          }
        },
      },
    ]);
    return accepted(c, result);
  });
}
