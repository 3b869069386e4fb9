import { PgDialect } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dueQuery } from '../../shared/content/publish-due.ts';
import { seed } from '../../tools/db/seed.ts';
import { createTenant } from './fixtures.ts';
import { backends, explain, openDatabase, type PlanNode, type TestDatabase } from './harness.ts';

const indexesUsed = (nodes: PlanNode[]) =>
  nodes.flatMap((node) => (node['Index Name'] ? [node['Index Name']] : []));
const nodeTypes = (nodes: PlanNode[]) => nodes.map((node) => node['Node Type']);

/**
 * The main query patterns use their index, and the paged lists need no sort (the index order
 * is the page order). Sequential scans are disabled so that small test tables say whether an
 * index *can* serve a query rather than whether it is worth it at this size.
 */
describe.each(backends)('query plans (%s)', (backend) => {
  let database: TestDatabase;
  let orgId: string;
  beforeAll(async () => {
    database = await openDatabase(backend);
    await seed(database.db);
    const [org] = await database.query<{ id: string }>(
      `select id from organizations where slug = 'sift-demo'`,
    );
    orgId = org!.id;
    // Three tenants' worth of audit entries and events, so org_id has to discriminate.
    for (const tenant of [{ orgId }, await createTenant(database), await createTenant(database)]) {
      await database.query(
        `insert into audit_log (id, org_id, actor_type, actor_id, action, target_type, target_id, created_at)
         select 'aud_' || md5($1 || g), $1, 'user', 'usr_' || (g % 7), (array['content.create', 'content.publish', 'api_key.roll'])[1 + g % 3],
                'content', 'cnt_' || (g % 40), now() - g * interval '7 minutes'
         from generate_series(1, 2000) as g`,
        [tenant.orgId],
      );
      await database.query(
        `insert into events (id, occurred_at, org_id, type, content_id)
         select 'evt_' || md5($1 || g), now() - (g % 20) * interval '1 hour', $1,
                (array['content.viewed', 'search.performed'])[1 + g % 2], 'cnt_' || (g % 40)
         from generate_series(1, 2000) as g`,
        [tenant.orgId],
      );
    }
    await database.query('analyze');
  });
  afterAll(() => database?.close());

  it('pages the content list by (updated_at, id) on the org index, without sorting', async () => {
    const plan = await explain(
      database,
      `select id from content
       where org_id = '${orgId}' and deleted_at is null
         and (updated_at, id) < (now(), 'cnt_zzzzzzzzzzzzzzzzzzzzzzzzzz')
       order by updated_at desc, id desc limit 20`,
    );
    expect(indexesUsed(plan)).toEqual(['content_org_updated_idx']);
    expect(nodeTypes(plan)).not.toContain('Sort');
  });

  it('filters the content list by status with its own index, without sorting', async () => {
    const plan = await explain(
      database,
      `select id from content
       where org_id = '${orgId}' and status = 'published' and deleted_at is null
       order by updated_at desc, id desc limit 20`,
    );
    expect(indexesUsed(plan)).toEqual(['content_org_status_updated_idx']);
    expect(nodeTypes(plan)).not.toContain('Sort');
  });

  it('filters the content list by category and by "updated since", without sorting', async () => {
    const [category] = await database.query<{ id: string }>(
      `select id from categories where org_id = $1 and slug = 'technology'`,
      [orgId],
    );
    const plan = await explain(
      database,
      `select id from content
       where org_id = '${orgId}' and category_id = '${category!.id}' and deleted_at is null
         and updated_at >= now() - interval '90 days'
       order by updated_at desc, id desc limit 20`,
    );
    expect(indexesUsed(plan)).toEqual(['content_org_category_updated_idx']);
    expect(nodeTypes(plan)).not.toContain('Sort');
  });

  it('filters the content list by tag and by locale with indexes', async () => {
    const byTag = await explain(
      database,
      `select id from content where org_id = '${orgId}' and tags @> array['ai'] and deleted_at is null`,
    );
    expect(indexesUsed(byTag)).toContain('content_tags_idx');
    const byLocale = await explain(
      database,
      `select c.id from content c
       where c.org_id = '${orgId}' and c.deleted_at is null and exists (
         select 1 from content_translations t
         where t.org_id = c.org_id and t.content_id = c.id and t.locale = 'en' and t.deleted_at is null)
       order by c.updated_at desc, c.id desc limit 20`,
    );
    expect(nodeTypes(byLocale)).not.toContain('Seq Scan');
  });

  it('looks up a slug (case-insensitively, along the locale chain) with the unique slug index', async () => {
    const plan = await explain(
      database,
      `select content_id, locale from content_translations
       where org_id = '${orgId}' and locale in ('ar-EG', 'ar')
         and (lower(slug) collate "C") = ('الطاقة-الشمسية'::text collate "C") and deleted_at is null`,
    );
    expect(indexesUsed(plan)).toEqual(['content_translations_org_locale_slug_key']);
  });

  it("reads a slug's family (base, base-2, …) as ranges of the unique slug index", async () => {
    const plan = await explain(
      database,
      `select content_id, locale, lower(slug) from content_translations
       where org_id = '${orgId}' and deleted_at is null and (
         (locale = 'ar' and (lower(slug) collate "C") >= ('الطاقة'::text collate "C")
           and (lower(slug) collate "C") < ('الطاقة.'::text collate "C"))
         or (locale = 'en' and (lower(slug) collate "C") >= ('solar'::text collate "C")
           and (lower(slug) collate "C") < ('solar.'::text collate "C")))`,
    );
    expect(indexesUsed(plan)).toContain('content_translations_org_locale_slug_key');
    expect(nodeTypes(plan)).not.toContain('Seq Scan');
  });

  it('runs full-text search on the GIN index', async () => {
    const plan = await explain(
      database,
      `select content_id from content_translations
       where org_id = '${orgId}' and search @@ websearch_to_tsquery('arabic', 'الطاقة الشمسية')`,
    );
    expect(indexesUsed(plan)).toContain('content_translations_search_idx');
  });

  it.each([
    ['publishing', 'publish', 'content_publish_due_idx'],
    ['archiving', 'unpublish', 'content_unpublish_due_idx'],
  ] as const)(
    'pages content due for %s (the cron) on its partial index',
    async (_, kind, index) => {
      const now = new Date();
      const cursor = { id: 'cnt_0', orgId, at: new Date(now.getTime() - 86_400_000).toISOString() };
      for (const after of [null, cursor]) {
        const { sql: text, params } = new PgDialect().sqlToQuery(dueQuery(kind, now, after, 100));
        const plan = await explain(database, text, params);
        // The index reads only the due rows, in due order; the planner may still sort them by
        // id (ties on the due time), incrementally or not as its estimates say.
        expect(indexesUsed(plan)).toEqual([index]);
      }
    },
  );

  it('pages the audit log, filtered by action and time, without sorting', async () => {
    const plan = await explain(
      database,
      `select id from audit_log
       where org_id = '${orgId}' and action = 'content.publish' and created_at >= now() - interval '3 days'
       order by created_at desc, id desc limit 50`,
    );
    expect(indexesUsed(plan)).toEqual(['audit_log_org_action_created_idx']);
    expect(nodeTypes(plan)).not.toContain('Sort');
  });

  it('pages the audit log unfiltered and by actor, without sorting', async () => {
    const all = await explain(
      database,
      `select id from audit_log where org_id = '${orgId}'
       and (created_at, id) < (now(), 'aud_zzzz') order by created_at desc, id desc limit 50`,
    );
    expect(indexesUsed(all)).toEqual(['audit_log_org_created_idx']);
    expect(nodeTypes(all)).not.toContain('Sort');
    const byActor = await explain(
      database,
      `select id from audit_log where org_id = '${orgId}' and actor_type = 'user' and actor_id = 'usr_3'
       order by created_at desc, id desc limit 50`,
    );
    expect(indexesUsed(byActor)).toEqual(['audit_log_org_actor_created_idx']);
    expect(nodeTypes(byActor)).not.toContain('Sort');
  });

  it('reads events by org and time, by content and by type on the partition indexes', async () => {
    for (const [filter, column] of [
      ['', 'org_id_occurred_at'],
      [`and content_id = 'cnt_7'`, 'org_id_content_id_occurred_at'],
      [`and type = 'search.performed'`, 'org_id_type_occurred_at'],
    ] as const) {
      const plan = await explain(
        database,
        `select count(*) from events
         where org_id = '${orgId}' ${filter} and occurred_at >= now() - interval '6 hours'`,
      );
      // Partition indexes are named after their columns (events_2026_11_org_id_occurred_at_idx).
      // Only the current month's partition holds rows; for empty ones any index costs the same.
      const now = new Date();
      const current = `events_${now.getUTCFullYear()}_${String(now.getUTCMonth() + 1).padStart(2, '0')}_`;
      const used = indexesUsed(plan).filter((name) => name.startsWith(current));
      expect(used).toEqual([`${current}${column}_idx`]);
      expect(nodeTypes(plan)).not.toContain('Seq Scan');
    }
  });
});
