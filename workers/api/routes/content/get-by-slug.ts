import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { findIdBySlug } from '../../../../shared/content/store.ts';
import { readContentEnrichment } from '../../../../shared/enrichment/content.ts';
import { AppError } from '../../../../shared/errors.ts';
import { CircuitOpenError } from '../../../../shared/resilience/circuit-breaker.ts';
import { faultOf } from '../../../../shared/resilience/faults.ts';
import type { AppBindings } from '../../app.ts';
import { contentResponse, READ_RETRY_AFTER_SECONDS, readContent } from '../../content-read.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { contentNotFound, READ_DESCRIPTION, READ_RESPONSES } from './get.ts';
import { ContentDetailSchema, ContentReadQuerySchema, ContentSlugParamsSchema } from './schema.ts';

export const route = createRoute({
  method: 'get',
  path: '/v1/content/by-slug/{locale}/{slug}',
  tags: ['content'],
  summary: 'Get a content item by slug',
  description:
    "A content item of the caller's organisation by the slug of its translation in `locale`. " +
    'Slugs are case-insensitive (`Solar-Energy` finds `solar-energy`). The slug is looked up ' +
    "along the locale's fallback chain, as reads by id fall back: the locale itself, then its " +
    'parents (`ar-EG` → `ar`), then another variant of its language (`ar-SA`). It is looked up ' +
    'in Postgres, then the item is read as `GET /v1/content/{id}` reads it (a Postgres outage ' +
    "is a `503` here). The translation served is `?locale=`, else the path's locale (with the " +
    `same fallback). ${READ_DESCRIPTION}`,
  security: [{ bearer: [] }],
  middleware: [requireAuth('content:read')] as const,
  request: { params: ContentSlugParamsSchema, query: ContentReadQuerySchema },
  responses: READ_RESPONSES,
});

export function registerContentGetBySlug<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { services } = c.var;
    const { orgId } = c.var.principal!;
    const params = c.req.valid('param');
    const { locale } = c.req.valid('query');
    let found: { id: string; locale: string } | undefined;
    try {
      found = await services.guard('postgres', () =>
        findIdBySlug(services.db, orgId, params.locale, params.slug),
      );
    } catch (error) {
      if (!(error instanceof CircuitOpenError) && faultOf(error) !== 'postgres') throw error;
      throw new AppError({
        code: 'SERVICE_UNAVAILABLE',
        message: 'The content store is unavailable.',
        headers: { 'Retry-After': String(READ_RETRY_AFTER_SECONDS) },
        cause: error,
      });
    }
    if (found === undefined) throw contentNotFound();
    const [read, enriched] = await Promise.all([
      readContent(services, orgId, found.id),
      readContentEnrichment(services, orgId, found.id),
    ]);
    if (!read) throw contentNotFound();
    const suffix = enriched ? `e${enriched.version}` : undefined;
    const answer = contentResponse(c, read, locale ?? params.locale, suffix);
    if (answer.status === 304) return c.body(null, 304);
    const enrichment = enriched?.enrichment ?? null;
    return c.json(ContentDetailSchema.parse({ ...answer.resource, enrichment }), 200);
  });
}
