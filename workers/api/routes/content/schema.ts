import { z } from '@hono/zod-openapi';
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
