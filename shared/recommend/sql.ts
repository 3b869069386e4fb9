import { type SQL, sql } from 'drizzle-orm';
import { languageOf } from '../content/locales.ts';

/** Whether the locale in `column` is of `locale`'s language (`ar` matches `ar` and `ar-EG`). */
export function inLanguage(column: SQL, locale: string): SQL {
  const language = languageOf(locale);
  return sql`(lower(${column}) = ${language} or lower(${column}) like ${`${language}-%`})`;
}

/** What recommendation answers may be narrowed to. */
export type ItemFilters = {
  /** Only items with a translation in this language. */
  locale?: string | undefined;
  categories?: string[] | undefined;
  /** Items with any of these tags. */
  tags?: string[] | undefined;
  exclude?: string[] | undefined;
};

/** The SQL list `a, b, c` of `values`' parameters. */
export const sqlList = (values: readonly string[]) =>
  sql.join(
    values.map((value) => sql`${value}`),
    sql`, `,
  );

/**
 * `and …` conditions that content row `c` passes `filters` (category, tags, a translation in
 * the locale's language); empty when there are none.
 */
export function contentFilters(filters: ItemFilters): SQL {
  const parts: SQL[] = [];
  if (filters.categories?.length) {
    parts.push(sql`and c.category_id in (${sqlList(filters.categories)})`);
  }
  if (filters.tags?.length) parts.push(sql`and c.tags && array[${sqlList(filters.tags)}]::text[]`);
  if (filters.locale) {
    parts.push(sql`and exists (select 1 from content_translations t
        where t.org_id = c.org_id and t.content_id = c.id and ${inLanguage(sql`t.locale`, filters.locale)})`);
  }
  return sql.join(parts, sql` `);
}
