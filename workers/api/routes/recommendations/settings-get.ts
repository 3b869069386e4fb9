import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { BLEND_SETTINGS_KEY } from '../../../../shared/recommend/settings.ts';
import type { AppBindings } from '../../app.ts';
import { noneMatch } from '../../content-read.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { readSettingsSection, SETTINGS_ETAG_HEADER, settingsEtag } from '../../org-settings.ts';
import { RecommendationSettingsSchema, settingsView } from './settings.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/recommendations/settings',
  tags: ['recommendations'],
  summary: 'Get the recommendation blend',
  description:
    'The blend recommendations use (what the organisation has stored over the defaults), with ' +
    '`defaults` and `stored`. The `ETag` hashes the stored fields: `If-Match` on `PUT`, ' +
    '`If-None-Match` for a `304`. Needs `content:read`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('content:read')] as const,
  responses: {
    200: {
      description: 'The blend.',
      headers: SETTINGS_ETAG_HEADER,
      content: { 'application/json': { schema: RecommendationSettingsSchema } },
    },
    304: { description: 'Not modified.', headers: SETTINGS_ETAG_HEADER },
    ...problemResponses('UNAUTHORIZED', 'FORBIDDEN', 'RATE_LIMITED', ...COMMON_PROBLEMS),
  },
});

export function registerRecommendationSettingsGet<S extends Schema>(
  app: OpenAPIHono<AppBindings, S>,
) {
  return app.openapi(route, async (c) => {
    const stored = await readSettingsSection(
      c.var.services.db,
      c.var.principal!.orgId,
      BLEND_SETTINGS_KEY,
    );
    const etag = await settingsEtag(stored);
    c.header('ETag', etag);
    if (noneMatch(c.req.header('If-None-Match'), etag)) return c.body(null, 304);
    return c.json(settingsView(stored), 200);
  });
}
