import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import {
  and,
  arrayOverlaps,
  asc,
  desc,
  eq,
  exists,
  gte,
  inArray,
  isNotNull,
  isNull,
  lt,
  or,
  type SQL,
  sql,
} from 'drizzle-orm';
import type { Schema } from 'hono';
import { parseAcceptLanguage } from '../../../../shared/content/locales.ts';
import { loadSnapshots } from '../../../../shared/content/store.ts';
import { contentResource } from '../../../../shared/content/view.ts';
import { content, contentTranslations, organizations } from '../../../../shared/db/schema/index.ts';
import { AppError } from '../../../../shared/errors.ts';
import { decodeCursor, encodeCursor } from '../../../../shared/pagination.ts';
import type { AppBindings } from '../../app.ts';
import { FILTER_PARAMS, metadataParams, TimeFrom, withMetadataParams } from '../../filters.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { afterCursor, type Keyset, page, sortKey } from '../../pagination.ts';
import { ContentSchema } from './schema.ts';

export const ContentListPageSchema = z
  .object({
    items: z.array(ContentSchema),
    next_cursor: z.string().nullable().openapi({
      description:
        'Pass as `cursor` (with the same `sort` and `order`) for the next page; null on the last page.',
    }),
  })
  .openapi('ContentListPage');

/**
 * `GET /v1/content`: the filters of search (`workers/api/filters.ts`), `updated_since`, the sort
 * and the page.
 */
export const ContentListQuery = withMetadataParams({
  ...FILTER_PARAMS,
  locale: FILTER_PARAMS.locale.openapi({
    description:
      'Items that have a translation in this locale, served in it; without it, each item in the ' +
      'best match for `Accept-Language`.',
  }),
  updated_since: TimeFrom.optional().openapi({ description: 'Items updated at or after this.' }),
  sort: z
    .enum(['updated_at', 'created_at', 'published_at'])
    .default('updated_at')
    .openapi({ description: '`published_at` lists only items that have been published.' }),
  order: z.enum(['asc', 'desc']).default('desc'),
  limit: z.coerce
    .number({ error: 'must be a number' })
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(100, 'must be at most 100')
    .default(20),
  cursor: z
    .string()
    .max(512, 'must be a cursor from a previous page')
    .optional()
    .openapi({ description: "The previous page's `next_cursor`, with the same sort and order." }),
});

export const route = createRoute({
  method: 'get',
  path: '/v1/content',
  tags: ['content'],
  summary: 'List content',
  description:
    "The organisation's content items (soft-deleted ones excluded), most recently updated first. " +
    'Filter as search does: `status`, `category` and `tags` (each one or several values, the ' +
    'parameter repeated or comma-separated, any of them), `locale` (items that have a ' +
    'translation in it), `published_from` / `published_to`, `meta.<field>=<value>` (a value ' +
    'that reads as a number or `true`/`false` matches it typed or as text); and ' +
    '`updated_since`. Times are RFC 3339 date-times or plain dates (UTC days; a date as ' +
    '`published_to` includes that day). An unknown parameter is a 400 (`tag` is now `tags`). ' +
    'Sort by `updated_at` (default), ' +
    '`created_at` or `published_at`, `order` desc (default) or asc. Sorting by `published_at` ' +
    'lists only items that have been published (those without a `published_at` are left out). ' +
    'Page with `cursor`: a cursor is only valid with the sort and order that produced it. Each ' +
    'item is served in the `locale` asked for, else the best match for `Accept-Language`, ' +
    "falling back along the chain (the item's default locale, the organisation's, any); with " +
    'neither, every translation is returned.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('content:read')] as const,
  request: { query: ContentListQuery },
  responses: {
    200: {
      description: 'A page of content items.',
      content: { 'application/json': { schema: ContentListPageSchema } },
    },
    ...problemResponses('VALIDATION_FAILED', 'UNAUTHORIZED', 'FORBIDDEN', ...COMMON_PROBLEMS),
  },
});

const SORT_COLUMNS = {
  updated_at: content.updatedAt,
  created_at: content.createdAt,
  published_at: content.publishedAt,
} as const;

const CURSOR_RULE = 'must be a cursor from a previous page with the same sort and order';

/**
 * The keyset condition for a cursor of this list. The cursor's id part is `<sort>.<order>:<id>`,
 * so that a cursor cannot be replayed against another ordering (it would skip or repeat items);
 * one from another sort or order, or from another list, is a 400 naming `query.cursor`.
 */
function afterListCursor(keyset: Keyset, scope: string, cursor: string | undefined) {
  if (cursor === undefined) return undefined;
  const decoded = decodeCursor(cursor);
  if (!decoded?.id.startsWith(`${scope}:`)) {
    throw new AppError({
      code: 'VALIDATION_FAILED',
      message: `query.cursor: ${CURSOR_RULE}`,
      errors: [{ path: 'query.cursor', message: CURSOR_RULE }],
    });
  }
  return afterCursor(
    keyset,
    encodeCursor({ t: decoded.t, id: decoded.id.slice(scope.length + 1) }),
  );
}

export function registerContentList<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const query = c.req.valid('query');
    const orgId = c.var.principal!.orgId;
    const { db, guard } = c.var.services;
    const keyset: Keyset = {
      time: SORT_COLUMNS[query.sort],
      id: content.id,
      direction: query.order,
    };
    const scope = `${query.sort}.${query.order}`;

    const conditions: (SQL | undefined)[] = [eq(content.orgId, orgId), isNull(content.deletedAt)];
    if (query.sort === 'published_at') conditions.push(isNotNull(content.publishedAt));
    if (query.status) conditions.push(inArray(content.status, query.status));
    if (query.category) conditions.push(inArray(content.categoryId, query.category));
    if (query.tags) conditions.push(arrayOverlaps(content.tags, query.tags));
    if (query.updated_since) {
      conditions.push(gte(content.updatedAt, new Date(query.updated_since)));
    }
    if (query.published_from) {
      conditions.push(gte(content.publishedAt, new Date(query.published_from)));
    }
    if (query.published_to) conditions.push(lt(content.publishedAt, new Date(query.published_to)));
    for (const [field, values] of Object.entries(metadataParams(query) ?? {})) {
      conditions.push(
        or(
          ...values.map(
            (v) => sql`${content.metadata} @> ${JSON.stringify({ [field]: v })}::jsonb`,
          ),
        ),
      );
    }
    if (query.locale) {
      conditions.push(
        exists(
          db
            .select({ one: sql`1` })
            .from(contentTranslations)
            .where(
              and(
                eq(contentTranslations.orgId, orgId),
                eq(contentTranslations.contentId, content.id),
                eq(contentTranslations.locale, query.locale),
                isNull(contentTranslations.deletedAt),
              ),
            ),
        ),
      );
    }
    conditions.push(afterListCursor(keyset, scope, query.cursor));

    const by = query.order === 'asc' ? asc : desc;
    const [rows, [org]] = await guard('postgres', () =>
      Promise.all([
        db
          .select({ id: content.id, sortKey: sortKey(keyset) })
          .from(content)
          .where(and(...conditions))
          .orderBy(by(keyset.time), by(content.id))
          .limit(query.limit + 1),
        db
          .select({ defaultLocale: organizations.defaultLocale })
          .from(organizations)
          .where(eq(organizations.id, orgId)),
      ]),
    );
    const { items, next_cursor } = page(rows, query.limit, (r) => ({
      t: r.sortKey,
      id: `${scope}:${r.id}`,
    }));

    const snapshots = await guard('postgres', () =>
      loadSnapshots(
        db,
        orgId,
        items.map((r) => r.id),
      ),
    );
    const locales = query.locale
      ? [query.locale]
      : parseAcceptLanguage(c.req.header('Accept-Language'));
    const resources = items.flatMap(({ id }) => {
      // An item deleted between the two queries has no snapshot: it is left out.
      const snapshot = snapshots.get(id);
      if (!snapshot) return [];
      return [
        contentResource(snapshot, { locales, orgDefaultLocale: org?.defaultLocale ?? null })
          .resource,
      ];
    });
    // The body depends on the reader's languages when no `locale` names one.
    if (!query.locale) c.header('Vary', 'Accept-Language', { append: true });
    return c.json(ContentListPageSchema.parse({ items: resources, next_cursor }), 200);
  });
}
