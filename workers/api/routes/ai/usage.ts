import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { aiUsageReport, MAX_USAGE_DAYS, usageWindow } from '../../../../shared/enrichment/usage.ts';
import { AppError } from '../../../../shared/errors.ts';
import type { AppBindings } from '../../app.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { AiUsageQuery, AiUsageSchema } from './schema.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/ai/usage',
  tags: ['ai'],
  summary: 'AI usage and costs',
  description:
    "The organisation's AI calls per UTC day over `[from, to]` (both days included; the last " +
    `30 days by default, at most ${MAX_USAGE_DAYS}): one row per day, kind (\`enrich\`, ` +
    '`ask`), model and engine, with calls, cache hits, tokens and estimated cost, and totals ' +
    'with cache hit rates (hits over calls), overall and per kind. Costs are estimates from ' +
    "Sift's price table, not Cloudflare's bill; the daily budget is read against them. Needs " +
    '`settings:manage`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('settings:manage')] as const,
  request: { query: AiUsageQuery },
  responses: {
    200: {
      description: 'The report.',
      content: { 'application/json': { schema: AiUsageSchema } },
    },
    ...problemResponses('VALIDATION_FAILED', 'UNAUTHORIZED', 'FORBIDDEN', ...COMMON_PROBLEMS),
  },
});

export function registerAiUsage<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const window = usageWindow(c.req.valid('query'), new Date());
    if (!window.ok) {
      const path = `query.${window.field}`;
      throw new AppError({
        code: 'VALIDATION_FAILED',
        message: `${path}: ${window.message}`,
        errors: [{ path, message: window.message }],
      });
    }
    const report = await aiUsageReport(c.var.services.db, c.var.principal!.orgId, window);
    return c.json(AiUsageSchema.parse(report), 200);
  });
}
