import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import {
  BLEND_SETTINGS_KEY,
  BLEND_TTL_MS,
  forgetRecommendationBlend,
} from '../../../../shared/recommend/settings.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { ifMatchHeader } from '../../if-match.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { replaceSettingsSection, SETTINGS_ETAG_HEADER, settingsEtag } from '../../org-settings.ts';
import {
  RecommendationSettingsInputSchema,
  RecommendationSettingsSchema,
  settingsView,
} from './settings.ts';

export const route = createRoute({
  method: 'put',
  path: '/v1/recommendations/settings',
  tags: ['recommendations'],
  summary: 'Replace the recommendation blend',
  description:
    'Stores the blend: fields left out take the defaults; `{}` resets them all. `If-Match` ' +
    'with the `ETag` of a read makes it conditional (`412` with `current_etag`). This instance ' +
    `recommends with it at once, every other within ${BLEND_TTL_MS / 1000} s. Audited as ` +
    '`recommendations.settings.update` with the stored blend before and after. Needs ' +
    '`settings:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('settings:manage')] as const,
  request: {
    headers: ifMatchHeader({
      description:
        'Write only if the stored blend is still at this `ETag` (from a read or a write), else ' +
        '`412` with `current_etag`. Without it the last writer wins.',
      example: '"5f0c3a9d8b2e4c1f7a6d9e0b3c2f1a4e"',
    }),
    body: {
      required: true,
      content: { 'application/json': { schema: RecommendationSettingsInputSchema } },
    },
  },
  responses: {
    200: {
      description: 'The blend as now stored and applied.',
      headers: SETTINGS_ETAG_HEADER,
      content: { 'application/json': { schema: RecommendationSettingsSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'NOT_FOUND',
      'PRECONDITION_FAILED',
      'UNSUPPORTED_MEDIA_TYPE',
      'RATE_LIMITED',
      ...COMMON_PROBLEMS,
    ),
  },
});

export function registerRecommendationSettingsPut<S extends Schema>(
  app: OpenAPIHono<AppBindings, S>,
) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const body = c.req.valid('json');
    const ifMatch = c.req.valid('header')['if-match'];
    const next = Object.keys(body).length > 0 ? body : null;
    const { before, after } = await replaceSettingsSection(
      c.var.services,
      orgId,
      BLEND_SETTINGS_KEY,
      next,
      { ifMatch, what: 'recommendation settings' },
    );
    forgetRecommendationBlend(orgId);
    audit(c, {
      action: 'recommendations.settings.update',
      targetType: 'organization',
      targetId: orgId,
      data: { before, after },
    });
    return c.json(settingsView(after), 200, { ETag: await settingsEtag(after) });
  });
}
