import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import {
  AI_SETTINGS_KEY,
  DEFAULT_AI_SETTINGS,
  effectiveAiSettings,
} from '../../../../shared/enrichment/settings.ts';
import type { AppBindings } from '../../app.ts';
import { noneMatch } from '../../content-read.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { readSettingsSection, SETTINGS_ETAG_HEADER, settingsEtag } from '../../org-settings.ts';
import { AiSettingsSchema } from './schema.ts';

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** The settings as the API shows them: applied, defaults, and what is stored. */
export function aiSettingsView(stored: unknown) {
  return AiSettingsSchema.parse({
    ...effectiveAiSettings(stored),
    defaults: DEFAULT_AI_SETTINGS,
    stored: isPlainObject(stored) ? stored : null,
  });
}

export const route = createRoute({
  method: 'get',
  path: '/v1/ai/settings',
  tags: ['ai'],
  summary: 'Get the AI settings',
  description:
    "The organisation's AI settings as applied (each field it has stored replaces the " +
    'default): the daily budget of its model calls and whether published content is enriched, ' +
    'with `defaults` and `stored`. The `ETag` is a hash of the stored settings: send it as ' +
    '`If-Match` to change only this state; `If-None-Match` with it answers `304`. Needs ' +
    '`settings:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('settings:manage')] as const,
  responses: {
    200: {
      description: 'The settings.',
      headers: SETTINGS_ETAG_HEADER,
      content: { 'application/json': { schema: AiSettingsSchema } },
    },
    304: {
      description: 'Not modified: `If-None-Match` names the current ETag.',
      headers: SETTINGS_ETAG_HEADER,
    },
    ...problemResponses('UNAUTHORIZED', 'FORBIDDEN', 'RATE_LIMITED', ...COMMON_PROBLEMS),
  },
});

export function registerAiSettingsGet<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const stored = await readSettingsSection(
      c.var.services.db,
      c.var.principal!.orgId,
      AI_SETTINGS_KEY,
    );
    const etag = await settingsEtag(stored);
    c.header('ETag', etag);
    if (noneMatch(c.req.header('If-None-Match'), etag)) return c.body(null, 304);
    return c.json(aiSettingsView(stored), 200);
  });
}
