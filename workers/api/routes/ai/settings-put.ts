import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import {
  AI_SETTINGS_KEY,
  AI_SETTINGS_TTL_MS,
  forgetAiSettings,
} from '../../../../shared/enrichment/settings.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { ifMatchHeader } from '../../if-match.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { replaceSettingsSection, SETTINGS_ETAG_HEADER, settingsEtag } from '../../org-settings.ts';
import { AiSettingsInputSchema, AiSettingsSchema } from './schema.ts';
import { aiSettingsView } from './settings-get.ts';

export const route = createRoute({
  method: 'put',
  path: '/v1/ai/settings',
  tags: ['ai'],
  summary: 'Replace the AI settings',
  description:
    'Stores the AI settings: `daily_budget_usd` (null: no limit) and ' +
    '`enrich_content_on_publish`. Fields left out take the defaults; `{}` resets them all; an ' +
    'unknown field is refused (`400`). This instance applies them at once, every other one ' +
    `within ${AI_SETTINGS_TTL_MS / 1000} seconds. \`If-Match\` with the \`ETag\` of a read makes ` +
    'it conditional: `412` with `current_etag` when the settings have changed since. Audited ' +
    'as `ai.settings.update` with the stored settings before and after. Needs ' +
    '`settings:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('settings:manage')] as const,
  request: {
    headers: ifMatchHeader({
      description:
        'Write only if the stored settings are still at this `ETag` (from a read or a write), ' +
        'else `412` with `current_etag`. Without it the last writer wins.',
      example: '"5f0c3a9d8b2e4c1f7a6d9e0b3c2f1a4e"',
    }),
    body: {
      required: true,
      content: { 'application/json': { schema: AiSettingsInputSchema } },
    },
  },
  responses: {
    200: {
      description: 'The settings as now stored and applied.',
      headers: SETTINGS_ETAG_HEADER,
      content: { 'application/json': { schema: AiSettingsSchema } },
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

export function registerAiSettingsPut<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { orgId } = c.var.principal!;
    const body = c.req.valid('json');
    const { services } = c.var;
    // Only the fields given are stored, so the others follow the defaults; `{}` stores nothing.
    const next = Object.keys(body).length > 0 ? body : null;
    const { before, after } = await replaceSettingsSection(services, orgId, AI_SETTINGS_KEY, next, {
      ifMatch: c.req.valid('header')['if-match'],
      what: 'AI settings',
    });
    forgetAiSettings(orgId);
    audit(c, {
      action: 'ai.settings.update',
      targetType: 'organization',
      targetId: orgId,
      data: { before, after },
    });
    return c.json(aiSettingsView(after), 200, { ETag: await settingsEtag(after) });
  });
}
