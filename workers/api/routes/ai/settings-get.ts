import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import type { Schema } from 'hono';
import type { HttpDatabase } from '../../../../shared/db/client.ts';
import { organizations } from '../../../../shared/db/schema/tenancy.ts';
import {
  AI_SETTINGS_KEY,
  DEFAULT_AI_SETTINGS,
  effectiveAiSettings,
} from '../../../../shared/enrichment/settings.ts';
import type { AppBindings } from '../../app.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { AiSettingsSchema } from './schema.ts';

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** `organizations.settings.ai` of the organisation; null when it has none (or no row). */
export async function readStoredAiSettings(db: HttpDatabase, orgId: string): Promise<unknown> {
  const [row] = await db
    .select({ settings: organizations.settings })
    .from(organizations)
    .where(eq(organizations.id, orgId))
    .limit(1);
  return row?.settings[AI_SETTINGS_KEY] ?? null;
}

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
    'with `defaults` and `stored`. Needs `settings:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('settings:manage')] as const,
  responses: {
    200: {
      description: 'The settings.',
      content: { 'application/json': { schema: AiSettingsSchema } },
    },
    ...problemResponses('UNAUTHORIZED', 'FORBIDDEN', 'RATE_LIMITED', ...COMMON_PROBLEMS),
  },
});

export function registerAiSettingsGet<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const stored = await readStoredAiSettings(c.var.services.db, c.var.principal!.orgId);
    return c.json(aiSettingsView(stored), 200);
  });
}
