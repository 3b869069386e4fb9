import { z } from '@hono/zod-openapi';
import { EnrichmentSchema } from '../../../../shared/ai/schema.ts';
import { ContentResource, Locale, Slug } from '../../../../shared/content/schema.ts';
import { idParams } from '../../params.ts';

/**
 * The content resource's OpenAPI names over the shared schemas (`shared/content/schema.ts`).
 * Those are plain zod schemas without `.openapi()`, so each is wrapped in a schema made with
 * `@hono/zod-openapi`'s `z` (an object over the same shape, or a string piped into the rule).
 */
export const ContentSchema = z.object(ContentResource.shape).openapi('Content', {
  description:
    'A content item at one version. With a locale (`?locale=` or `Accept-Language`) ' +
    '`translations` holds the one served (`locale`); without, all of them and `locale` is null.',
});

/** A single-item read: the item and its AI enrichment. */
export const ContentDetailSchema = z
  .object({
    ...ContentResource.shape,
    enrichment: z
      .object(EnrichmentSchema.shape)
      .nullable()
      .openapi('ContentEnrichment', {
        description:
          'Read-only: the AI enrichment of the item’s default-locale text (title, summary and ' +
          'body): summaries, action items, risks, tags, document type, with the model, engine ' +
          'and estimated cost. Made after the item is published (or its published text ' +
          'changes) when the organisation enriches content on publish ' +
          '(`settings.ai.enrich_content_on_publish`), so it may lag the version served by a ' +
          'few seconds; null when there is none.',
      }),
  })
  .openapi('ContentDetail', {
    description: 'A content item at one version (as `Content`), with its AI enrichment.',
  });

export const ContentIdParamsSchema = idParams('content');

export const ContentSlugParamsSchema = z.object({
  locale: Locale.meta({ example: 'ar' }),
  slug: Slug.meta({ example: 'hello-world' }),
});

export const ContentReadQuerySchema = z.object({
  locale: Locale.optional().meta({
    description:
      'The translation to serve, following the fallback chain (its parents, another variant ' +
      "of the language, the item's default locale, the organisation's, any). Overrides " +
      '`Accept-Language`.',
    example: 'ar',
  }),
});
