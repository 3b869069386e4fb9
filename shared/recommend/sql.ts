import { type SQL, sql } from 'drizzle-orm';
import { languageOf } from '../content/locales.ts';

/** Whether the locale in `column` is of `locale`'s language (`ar` matches `ar` and `ar-EG`). */
export function inLanguage(column: SQL, locale: string): SQL {
  const language = languageOf(locale);
  return sql`(lower(${column}) = ${language} or lower(${column}) like ${`${language}-%`})`;
}
