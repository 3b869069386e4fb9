import { newId } from '../../shared/ids.ts';
import type { TestDatabase } from './harness.ts';

/** A fresh organisation with one user (its owner) and one category; returns their ids. */
export async function createTenant(database: TestDatabase, label = 'org') {
  const orgId = newId('organization');
  const userId = newId('user');
  const categoryId = newId('category');
  const slug = `${label}-${orgId.slice(-8)}`;
  await database.query('insert into organizations (id, slug, name) values ($1, $2, $3)', [
    orgId,
    slug,
    label,
  ]);
  await database.query('insert into users (id, email) values ($1, $2)', [
    userId,
    `${slug}@example.com`,
  ]);
  await database.query(`insert into memberships (org_id, user_id, role) values ($1, $2, 'owner')`, [
    orgId,
    userId,
  ]);
  await database.query(
    `insert into categories (id, org_id, slug, names) values ($1, $2, 'news', '{"en":"News","ar":"أخبار"}')`,
    [categoryId, orgId],
  );
  return { orgId, userId, categoryId };
}

/** A content item with one translation per `locales` entry ([locale, title, slug?]). */
export async function createContent(
  database: TestDatabase,
  orgId: string,
  translations: Array<{
    locale: string;
    title: string;
    slug: string;
    summary?: string;
    body?: string;
  }>,
  fields: { status?: string; categoryId?: string | null } = {},
) {
  const id = newId('content');
  await database.query(
    `insert into content (id, org_id, status, category_id, default_locale) values ($1, $2, $3, $4, $5)`,
    [
      id,
      orgId,
      fields.status ?? 'draft',
      fields.categoryId ?? null,
      translations[0]?.locale ?? 'en',
    ],
  );
  for (const t of translations) {
    await database.query(
      `insert into content_translations (content_id, org_id, locale, title, summary, body, slug)
       values ($1, $2, $3, $4, $5, $6, $7)`,
      [id, orgId, t.locale, t.title, t.summary ?? null, t.body ?? '', t.slug],
    );
  }
  return id;
}
