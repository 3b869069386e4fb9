import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { eq, sql } from 'drizzle-orm';
import type { Schema } from 'hono';
import { organizations } from '../../../../shared/db/schema/tenancy.ts';
import {
  AI_SETTINGS_KEY,
  AI_SETTINGS_TTL_MS,
  forgetAiSettings,
} from '../../../../shared/enrichment/settings.ts';
import { AppError } from '../../../../shared/errors.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
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
    `within ${AI_SETTINGS_TTL_MS / 1000} seconds. Audited as \`ai.settings.update\` with the ` +
    'stored settings before and after. Needs `settings:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('settings:manage')] as const,
  request: {
    body: {
      required: true,
      content: { 'application/json': { schema: AiSettingsInputSchema } },
    },
  },
  responses: {
    200: {
      description: 'The settings as now stored and applied.',
      content: { 'application/json': { schema: AiSettingsSchema } },
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'NOT_FOUND',
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
    const { before, after } = await services.transaction(async (tx) => {
      const [current] = await tx
        .select({ settings: organizations.settings })
        .from(organizations)
        .where(eq(organizations.id, orgId))
        .for('update');
      if (!current) {
        throw new AppError({ code: 'NOT_FOUND', message: 'The organisation no longer exists.' });
      }
      // A merge, not a replace: the organisation's other settings stay as they are.
      const settings =
        next === null
          ? sql`${organizations.settings} - ${AI_SETTINGS_KEY}::text`
          : sql`${organizations.settings} || jsonb_build_object(${AI_SETTINGS_KEY}::text, ${JSON.stringify(next)}::jsonb)`;
      const [updated] = await tx
        .update(organizations)
        .set({ settings })
        .where(eq(organizations.id, orgId))
        .returning({ settings: organizations.settings });
      return {
        before: current.settings[AI_SETTINGS_KEY] ?? null,
        after: updated!.settings[AI_SETTINGS_KEY] ?? null,
      };
    });
    forgetAiSettings(orgId);
    audit(c, {
      action: 'ai.settings.update',
      targetType: 'organization',
      targetId: orgId,
      data: { before, after },
    });
    return c.json(aiSettingsView(after), 200);
  });
}
