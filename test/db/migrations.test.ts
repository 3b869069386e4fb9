import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { getTableConfig } from 'drizzle-orm/pg-core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { events } from '../../shared/db/schema/index.ts';
import { newId } from '../../shared/ids.ts';
import { findSchemaDrift } from '../../tools/db/check.ts';
import { MIGRATIONS_FOLDER, migrateDatabase } from '../../tools/db/migrate.ts';
import {
  type PgliteServer,
  startPgliteServer,
} from '../../tools/local-cloud/neon/pglite-server.ts';
import { backends, createServerDatabase, openDatabase, type TestDatabase } from './harness.ts';

const journal = JSON.parse(readFileSync(`${MIGRATIONS_FOLDER}/meta/_journal.json`, 'utf8')) as {
  entries: Array<{ tag: string }>;
};
const allTags = journal.entries.map((entry) => entry.tag);

const TABLES = [
  'access_rules',
  'ai_usage',
  'api_keys',
  'audit_log',
  'categories',
  'content',
  'content_enrichments',
  'content_translations',
  'content_versions',
  'dead_letters',
  'document_chunks',
  'documents',
  'events',
  'experiment_exposures',
  'experiments',
  'flag_sets',
  'flags',
  'idempotency_records',
  'invitations',
  'memberships',
  'operations',
  'organizations',
  'session_events',
  'synonyms',
  'topic_changes',
  'topic_members',
  'topic_series',
  'topics',
  'users',
  'webhook_attempts',
  'webhook_deliveries',
  'webhook_source_deliveries',
  'webhook_source_items',
  'webhook_sources',
  'webhook_subscriptions',
];

/**
 * Indexes on tenant tables that do not lead with org_id, each because the query it serves runs
 * before an organisation is known or across all of them.
 */
const GLOBAL_INDEXES = new Set([
  'api_keys_hash_key', // authenticating a key
  'invitations_token_hash_key', // accepting an invitation
  'memberships_user_idx', // a user's organisations, at sign-in
  'content_publish_due_idx', // scheduling cron
  'content_unpublish_due_idx', // scheduling cron
  'idempotency_records_expires_idx', // pruning cron
  'webhook_deliveries_status_next_attempt_idx', // retry sweeper
  'webhook_sources_next_poll_idx', // poll-feeds cron
  'content_tags_idx', // GIN: cannot lead with text org_id without btree_gin
  'content_translations_search_idx', // GIN, likewise
  'documents_tags_idx', // GIN, likewise
  'document_chunks_search_idx', // GIN, likewise
]);

/** Runs a tools/db script on this Node, as `npm run db:*` would. */
const runScript = (script: string, env: Record<string, string>) =>
  promisify(execFile)(process.execPath, [script], { env: { ...process.env, ...env } });

describe('migrate CLI on the local cloud PGlite (wire protocol)', () => {
  let server: PgliteServer;
  let url: string;
  beforeAll(async () => {
    server = await startPgliteServer({ port: 0, password: 'postgres' });
    url = `postgresql://postgres:postgres@127.0.0.1:${server.port}/postgres`;
  });
  afterAll(() => server?.close());

  it('applies every migration from empty, then reports nothing to apply', async () => {
    const first = await runScript('tools/db/migrate.ts', { DATABASE_URL: url });
    expect(first.stdout).toContain(`applied ${allTags.length} migration(s)`);
    for (const tag of allTags) expect(first.stdout).toContain(tag);
    const second = await runScript('tools/db/migrate.ts', { DATABASE_URL: url });
    expect(second.stdout).toContain('up to date, nothing to apply');
    expect(await migrateDatabase(url)).toEqual({ applied: 0, tags: [] });
  });
});

describe.runIf(process.env.DATABASE_URL)('migrateDatabase on the Postgres server', () => {
  it('applies every migration to an empty database once, even when two runs race', async () => {
    const { url, drop } = await createServerDatabase();
    try {
      const results = await Promise.all([migrateDatabase(url), migrateDatabase(url)]);
      // The advisory lock serialises them: one applies everything, the other nothing.
      expect(results.map((r) => r.applied).sort()).toEqual([0, allTags.length]);
      expect(await migrateDatabase(url)).toEqual({ applied: 0, tags: [] });
    } finally {
      await drop();
    }
  });
});

describe('migration 0005 (actors): writes made with an API key get their actor back', () => {
  let server: PgliteServer;
  let url: string;
  let folder: string;
  beforeAll(async () => {
    server = await startPgliteServer({ port: 0, password: 'postgres' });
    url = `postgresql://postgres:postgres@127.0.0.1:${server.port}/postgres`;
    // The migrations up to the one before: the schema as it was when those rows were written.
    folder = await mkdtemp(join(tmpdir(), 'sift-migrations-'));
    await cp(MIGRATIONS_FOLDER, folder, { recursive: true });
    const upTo = allTags.indexOf('0005_actors');
    const before = JSON.parse(readFileSync(`${folder}/meta/_journal.json`, 'utf8')) as {
      entries: unknown[];
    };
    await writeFile(
      `${folder}/meta/_journal.json`,
      JSON.stringify({ ...before, entries: before.entries.slice(0, upTo) }),
    );
  });
  afterAll(async () => {
    await server?.close();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it('recovers key actors from snapshots and the audit log, leaving recorded ones and unknowns', async () => {
    expect((await migrateDatabase(url, { migrationsFolder: folder })).tags).not.toContain(
      '0005_actors',
    );
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const q = (text: string, values: unknown[] = []) => client.query(text, values);
      const [org, user, key, child, rolled, oldKey] = [
        newId('organization'),
        newId('user'),
        newId('apiKey'),
        newId('apiKey'),
        newId('apiKey'),
        newId('apiKey'),
      ];
      await q('insert into organizations (id, slug, name) values ($1, $2, $3)', [
        org,
        `actors-${org.slice(-8)}`,
        'o',
      ]);
      await q('insert into users (id, email) values ($1, $2)', [user, `${user}@example.com`]);
      for (const [id, createdBy] of [
        [key, user],
        [child, null],
        [rolled, null],
        [oldKey, null],
      ]) {
        await q(
          `insert into api_keys (id, org_id, name, prefix, hash, created_by)
           values ($1, $2, 'k', 'sk_test_x', $3, $4)`,
          [id, org, createHash('sha256').update(String(id)).digest('hex'), createdBy],
        );
      }
      // A key-written item (v1), then edited by a user (v2); and an item with no evidence.
      const [item, unknown] = [newId('content'), newId('content')];
      const snapshot = (updatedBy: string) =>
        JSON.stringify({ created_by: key, updated_by: updatedBy });
      await q(
        `insert into content (id, org_id, version, default_locale, created_by, updated_by)
         values ($1, $2, 2, 'en', null, $3), ($4, $2, 1, 'en', null, null)`,
        [item, org, user, unknown],
      );
      const [op1, op2, reindex] = [newId('operation'), newId('operation'), newId('operation')];
      await q(
        `insert into content_versions (content_id, version, org_id, snapshot, status, operation_id, created_by)
         values ($1, 1, $2, $3, 'draft', $4, null), ($1, 2, $2, $5, 'draft', $6, $7),
                ($8, 1, $2, '{"created_by": null, "updated_by": null}', 'draft', null, null)`,
        [item, org, snapshot(key), op1, snapshot(user), op2, user, unknown],
      );
      await q(
        `insert into operations (id, org_id, kind, status, completed_at, created_by)
         values ($1, $2, 'content.create', 'applied', now(), null),
                ($3, $2, 'content.update', 'applied', now(), $4),
                ($5, $2, 'search.reindex', 'queued', null, null)`,
        [op1, org, op2, user, reindex],
      );
      const [bySynKey, bySynUser] = [newId('synonym'), newId('synonym')];
      await q(
        `insert into synonyms (id, org_id, locale, kind, terms, created_by)
         values ($1, $2, 'en', 'multi_way', '{a,b}', null), ($3, $2, 'en', 'multi_way', '{c,d}', $4)`,
        [bySynKey, org, bySynUser, user],
      );
      const audit = (action: string, target: string, data: object = {}) =>
        q(
          `insert into audit_log (id, org_id, actor_type, actor_id, action, target_id, data)
           values ($1, $2, 'api_key', $3, $4, $5, $6)`,
          [newId('auditLog'), org, key, action, target, JSON.stringify(data)],
        );
      await audit('api_key.create', child);
      await audit('api_key.roll', oldKey, { new_key_id: rolled });
      await audit('search.synonyms.create', bySynKey);
      await audit('search.reindex', reindex);

      // 0005 and every migration after it.
      expect((await migrateDatabase(url)).tags).toEqual(
        allTags.slice(allTags.indexOf('0005_actors')),
      );

      const one = async (text: string, values: unknown[]) => (await q(text, values)).rows;
      expect(
        await one('select created_by, updated_by from content where id = any($1) order by id', [
          [item, unknown].sort(),
        ]),
      ).toEqual(
        [item, unknown]
          .sort()
          .map((id) =>
            id === item
              ? { created_by: key, updated_by: user }
              : { created_by: null, updated_by: null },
          ),
      );
      expect(
        await one(
          'select content_id, version, created_by from content_versions where org_id = $1 order by content_id, version',
          [org],
        ),
      ).toEqual(
        [
          { content_id: item, version: 1, created_by: key },
          { content_id: item, version: 2, created_by: user },
          { content_id: unknown, version: 1, created_by: null },
        ].sort((a, b) => (a.content_id < b.content_id ? -1 : a.content_id > b.content_id ? 1 : 0)),
      );
      const actorOf = async (table: string, id: string) =>
        (await one(`select created_by from ${table} where id = $1`, [id]))[0]?.created_by;
      expect(await actorOf('operations', op1)).toBe(key);
      expect(await actorOf('operations', op2)).toBe(user);
      expect(await actorOf('operations', reindex)).toBe(key);
      expect(await actorOf('synonyms', bySynKey)).toBe(key);
      expect(await actorOf('synonyms', bySynUser)).toBe(user);
      expect(await actorOf('api_keys', key)).toBe(user);
      expect(await actorOf('api_keys', child)).toBe(key);
      expect(await actorOf('api_keys', rolled)).toBe(key);
      expect(await actorOf('api_keys', oldKey)).toBeNull();
      // From now on only actors (or null) are stored.
      await expect(
        q(`update synonyms set created_by = 'someone' where id = $1`, [bySynKey]),
      ).rejects.toThrow(/synonyms_created_by_actor/);
    } finally {
      await client.end();
    }
  });
});

describe('schema and migrations', () => {
  it('agree: drizzle-kit generate finds nothing to add', { timeout: 120_000 }, async () => {
    const report = await findSchemaDrift();
    expect(report.pending.map((p) => p.sql)).toEqual([]);
    expect(report.clean).toBe(true);
  });
});

describe.each(backends)('the migrated schema (%s)', (backend) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openDatabase(backend);
  });
  afterAll(() => database?.close());

  it('has every table', async () => {
    const rows = await database.query<{ name: string }>(
      `select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition
       order by 1`,
    );
    expect(rows.map((r) => r.name)).toEqual(TABLES);
  });

  it('has the events table of its drizzle definition', async () => {
    const columns = await database.query<{ name: string; type: string; not_null: boolean }>(
      `select attname as name, format_type(atttypid, atttypmod) as type, attnotnull as not_null
       from pg_attribute where attrelid = 'events'::regclass and attnum > 0 and not attisdropped
       order by attnum`,
    );
    const config = getTableConfig(events);
    expect(columns).toEqual(
      config.columns.map((c) => ({
        name: c.name,
        type: c
          .getSQLType()
          .replace(/^timestamp(\(\d+\))? with time zone$/, 'timestamp with time zone'),
        not_null: c.notNull,
      })),
    );
  });

  it('leads every index on tenant data with org_id, except the global look-ups', async () => {
    const rows = await database.query<{ index: string; first: string }>(
      `select i.relname as index, a.attname as first
       from pg_index x
       join pg_class t on t.oid = x.indrelid
       join pg_class i on i.oid = x.indexrelid
       join pg_namespace n on n.oid = t.relnamespace
       left join pg_attribute a on a.attrelid = t.oid and a.attnum = x.indkey[0]
       where n.nspname = 'public' and not t.relispartition
         and exists (select 1 from pg_attribute o where o.attrelid = t.oid and o.attname = 'org_id')`,
    );
    const offenders = rows.filter(
      (r) => r.first !== 'org_id' && !r.index.endsWith('_pkey') && !GLOBAL_INDEXES.has(r.index),
    );
    // Primary keys on ids are global by nature; (content_id, version) and (id, occurred_at) too.
    expect(offenders.map((r) => r.index).sort()).toEqual([
      'content_translations_content_id_locale_pk',
      'content_versions_content_id_version_pk',
      'events_id_occurred_at_pk',
    ]);
  });

  it('defines the enums the API validates against', async () => {
    const rows = await database.query<{ name: string; labels: string }>(
      `select t.typname as name, string_agg(e.enumlabel, ',' order by e.enumsortorder) as labels
       from pg_type t join pg_enum e on e.enumtypid = t.oid group by 1 order by 1`,
    );
    expect(Object.fromEntries(rows.map((r) => [r.name, r.labels]))).toEqual({
      access_list: 'allow,deny',
      access_subject_type: 'ip,api_key',
      audit_actor_type: 'user,api_key,system,webhook_source',
      content_status: 'draft,in_review,approved,published,archived',
      document_status: 'stored,extracting,chunking,embedding,enriching,ready,failed,needs_ocr',
      document_visibility: 'private,organization',
      experiment_status: 'draft,running,paused,stopped',
      experiment_surface: 'search,recommendations',
      feed_poll_status: 'ok,not_modified,failed',
      flag_type: 'boolean,string,number,json',
      membership_role: 'owner,admin,editor,author,viewer',
      operation_status: 'queued,running,applied,partially_applied,failed',
      session_event_kind: 'created,refreshed,revoked,reuse_detected,expired',
      synonym_kind: 'one_way,multi_way',
      topic_change_kind: 'created,grew,merged,absorbed,split,split_from,retired',
      topic_status: 'active,merged,retired',
      trend_lifecycle: 'emerging,rising,peaking,declining',
      webhook_attempt_outcome: 'delivered,failed,gone',
      webhook_delivery_status: 'pending,delivered,failed',
      webhook_endpoint_disabled_reason: 'manual,gone,failing',
      webhook_source_delivery_status: 'accepted,duplicate,refused,unmapped,applied,failed',
      webhook_source_kind: 'standard,github,stripe,hmac,feed',
    });
  });
});
