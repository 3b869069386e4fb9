import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { principalId } from '../../../../shared/auth/permissions.ts';
import { restoreAsNew } from '../../../../shared/content/diff.ts';
import { checkEdit } from '../../../../shared/content/workflow.ts';
import type { AppBindings } from '../../app.ts';
import { commitContent } from '../../content-write.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { acceptedOrUnchanged, IfMatchHeaderSchema, WRITE_RESPONSES } from './accepted.ts';
import { denied, notDeleted } from './plan.ts';
import { ContentVersionParamsSchema, readVersions, versionNotFound } from './versions-get.ts';

export const route = createRoute({
  method: 'post',
  path: '/v1/content/{id}/versions/{version}/restore',
  tags: ['content'],
  summary: 'Restore an old version of a content item',
  description:
    "Brings back a version's content (translations with their slugs, default locale, category, " +
    'tags, metadata) as a new version; the workflow status and schedule stay as they are now, ' +
    'so restoring never publishes or unpublishes anything. `409` when one of its slugs has ' +
    'since been taken by another item; `404` for a deleted item (restore it first) or an ' +
    'unknown version. `If-Match` makes it conditional (`412` when stale). Audited as ' +
    '`content.restore_version`. Answers `202` with the new version; restoring content equal to ' +
    'the current makes none: `200` with the item and `operation: null`. Needs `content:write` (and ' +
    '`content:publish` for reviewed items).',
  security: [{ bearer: [] }],
  middleware: [requireAuth('content:write')] as const,
  request: { params: ContentVersionParamsSchema, headers: IfMatchHeaderSchema },
  responses: WRITE_RESPONSES,
});

export function registerContentVersionsRestore<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { id, version } = c.req.valid('param');
    const principal = c.var.principal!;
    // Read before planning: the plan may run again when the item moves on meanwhile, and the old
    // version stays the same whatever the head is by then.
    const old = (await readVersions(c, id, [version])).get(version);
    if (!old) throw versionNotFound(id, version, 'path.version');
    const [result] = await commitContent(c, [
      {
        id,
        action: 'update',
        audit: 'content.restore_version',
        auditData: { restored_version: version },
        create: false,
        ifMatch: c.req.valid('header')['if-match'],
        plan: async (current) => {
          const item = notDeleted(current!);
          const next = restoreAsNew(old.snapshot, item, {
            now: new Date(),
            actorId: principalId(principal),
          });
          const edit = checkEdit(item, next, principal.permissions);
          if (!edit.ok) {
            throw denied(
              c,
              edit.permission,
              `Restoring a version of ${item.status} content needs the "${edit.permission}" ` +
                'permission.',
            );
          }
          return next;
        },
      },
    ]);
    return acceptedOrUnchanged(c, result);
  });
}
