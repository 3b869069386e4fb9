import { sql } from 'drizzle-orm';
import { type Database, rowsOf } from './database.ts';

/** The most words an organisation's vocabulary keeps: its most widespread ones. */
export const VOCABULARY_WORDS = 30_000;

/** Words and the number of published translations each appears in. */
export type WordCounts = [word: string, documents: number][];

/**
 * The words of the organisation's published translations (title, summary and body), with the
 * number of translations each appears in, most widespread first: Postgres's own parser over
 * the `simple` configuration (lower-cased, unstemmed), so the vocabulary holds words as people
 * write them. Typo correction and `did_you_mean` draw on it.
 */
export async function countWords(db: Database, orgId: string): Promise<WordCounts> {
  const result = await db.execute(sql`
    select word, ndoc from ts_stat(format(
      'select to_tsvector(''simple'', t.title || '' '' || coalesce(t.summary, '''') || '' '' || t.body)
       from content_translations t join content c on c.org_id = t.org_id and c.id = t.content_id
       where t.org_id = %L and t.deleted_at is null and c.deleted_at is null
         and c.status = ''published''', ${orgId}::text))
    order by ndoc desc, word
    limit ${VOCABULARY_WORDS}`);
  return (rowsOf(result) as { word: string; ndoc: number | string }[]).map((r) => [
    r.word,
    Number(r.ndoc),
  ]);
}
