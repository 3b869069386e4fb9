import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auditLog,
  contentVersions,
  memberships,
  operations,
  users,
} from '../../shared/db/schema/index.ts';
import { newId } from '../../shared/ids.ts';
import { createContent, createTenant } from './fixtures.ts';
import { backends, openDatabase, sqlState, type TestDatabase } from './harness.ts';

const UNIQUE = '23505';
const FOREIGN_KEY = '23503';
const CHECK = '23514';
const BAD_ENUM = '22P02';

describe.each(backends)('constraints (%s)', (backend) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openDatabase(backend);
  });
  afterAll(() => database?.close());

  describe('content translation slugs', () => {
    it('are unique per organisation and locale', async () => {
      const { orgId } = await createTenant(database);
      await createContent(database, orgId, [{ locale: 'en', title: 'Solar', slug: 'solar' }]);
      expect(
        await sqlState(
          createContent(database, orgId, [{ locale: 'en', title: 'Solar again', slug: 'solar' }]),
        ),
      ).toBe(UNIQUE);
    });

    it('may repeat across locales and across organisations', async () => {
      const a = await createTenant(database, 'a');
      const b = await createTenant(database, 'b');
      await createContent(database, a.orgId, [{ locale: 'en', title: 'Solar', slug: 'solar' }]);
      await createContent(database, a.orgId, [{ locale: 'ar', title: 'Solar', slug: 'solar' }]);
      await createContent(database, b.orgId, [{ locale: 'en', title: 'Solar', slug: 'solar' }]);
    });

    it('are free again once the item is soft-deleted, and a restore that collides fails', async () => {
      const { orgId } = await createTenant(database);
      const first = await createContent(database, orgId, [
        { locale: 'ar', title: 'الطاقة', slug: 'الطاقة' },
        { locale: 'en', title: 'Energy', slug: 'energy' },
      ]);
      await database.query('update content set deleted_at = now() where id = $1', [first]);
      const deleted = await database.query<{ locale: string; deleted: boolean }>(
        `select locale, deleted_at is not null as deleted from content_translations
         where content_id = $1 order by locale`,
        [first],
      );
      expect(deleted).toEqual([
        { locale: 'ar', deleted: true },
        { locale: 'en', deleted: true },
      ]);
      await createContent(database, orgId, [{ locale: 'ar', title: 'الطاقة', slug: 'الطاقة' }]);
      expect(
        await sqlState(
          database.query('update content set deleted_at = null where id = $1', [first]),
        ),
      ).toBe(UNIQUE);
    });

    it('restoring an item restores the translations deleted with it, not older ones', async () => {
      const { orgId } = await createTenant(database);
      const id = await createContent(database, orgId, [
        { locale: 'en', title: 'Water', slug: 'water' },
        { locale: 'fr', title: 'Eau', slug: 'eau' },
      ]);
      await database.query(
        `update content_translations set deleted_at = now() - interval '1 day'
         where content_id = $1 and locale = 'fr'`,
        [id],
      );
      await database.query('update content set deleted_at = now() where id = $1', [id]);
      await database.query('update content set deleted_at = null where id = $1', [id]);
      const live = await database.query<{ locale: string }>(
        'select locale from content_translations where content_id = $1 and deleted_at is null',
        [id],
      );
      expect(live).toEqual([{ locale: 'en' }]);
    });

    it('reject blanks, spaces and slashes', async () => {
      const { orgId } = await createTenant(database);
      for (const slug of ['', 'two words', 'a/b', '-edge']) {
        expect(
          await sqlState(createContent(database, orgId, [{ locale: 'en', title: 'T', slug }])),
        ).toBe(CHECK);
      }
    });
  });

  it('keeps one row per content version (the idempotent consumer write)', async () => {
    const { orgId, userId } = await createTenant(database);
    const contentId = await createContent(database, orgId, [
      { locale: 'en', title: 'Versioned', slug: 'versioned' },
    ]);
    const row = {
      contentId,
      version: 1,
      orgId,
      status: 'draft' as const,
      snapshot: { id: contentId } as never,
      createdBy: userId,
    };
    await database.db.insert(contentVersions).values(row);
    expect(await sqlState(database.db.insert(contentVersions).values(row))).toBe(UNIQUE);
    const replay = await database.db
      .insert(contentVersions)
      .values({ ...row, snapshot: { id: contentId, redelivered: true } as never })
      .onConflictDoNothing()
      .returning();
    expect(replay).toEqual([]);
    await database.db.insert(contentVersions).values({ ...row, version: 2 });
  });

  it('stores who made a version as an actor: a user, an API key, system or no one; else refused', async () => {
    const { orgId } = await createTenant(database);
    const contentId = await createContent(database, orgId, [
      { locale: 'en', title: 'Acted', slug: 'acted' },
    ]);
    const insert = (version: number, createdBy: string | null) =>
      database.db.insert(contentVersions).values({
        contentId,
        version,
        orgId,
        status: 'draft',
        snapshot: { id: contentId } as never,
        createdBy,
      });
    // No foreign key: the history outlives the users and keys it names (these exist nowhere).
    for (const [version, actor] of [
      [1, newId('user')],
      [2, newId('apiKey')],
      [3, 'system'],
      [4, null],
    ] as const) {
      await insert(version, actor);
    }
    for (const bad of ['someone', newId('content'), 'usr_short', 'System', `${newId('user')} `]) {
      expect(await sqlState(insert(9, bad))).toBe(CHECK);
    }
  });

  it('rejects a membership role outside the enum', async () => {
    const { orgId } = await createTenant(database);
    const userId = newId('user');
    await database.db.insert(users).values({ id: userId, email: `${userId}@example.com` });
    expect(
      await sqlState(
        database.query(
          `insert into memberships (org_id, user_id, role) values ($1, $2, 'superuser')`,
          [orgId, userId],
        ),
      ),
    ).toBe(BAD_ENUM);
    await database.db.insert(memberships).values({ orgId, userId, role: 'author' });
  });

  it('treats emails as unique whatever their case', async () => {
    const email = `${newId('user')}@Example.com`;
    await database.db.insert(users).values({ id: newId('user'), email });
    expect(
      await sqlState(
        database.db.insert(users).values({ id: newId('user'), email: email.toUpperCase() }),
      ),
    ).toBe(UNIQUE);
  });

  it('refuses references across organisations (category, translation)', async () => {
    const a = await createTenant(database, 'a');
    const b = await createTenant(database, 'b');
    expect(
      await sqlState(
        createContent(database, a.orgId, [{ locale: 'en', title: 'X', slug: 'x' }], {
          categoryId: b.categoryId,
        }),
      ),
    ).toBe(FOREIGN_KEY);
    const inA = await createContent(database, a.orgId, [{ locale: 'en', title: 'Y', slug: 'y' }]);
    expect(
      await sqlState(
        database.query(
          `insert into content_translations (content_id, org_id, locale, title, slug)
           values ($1, $2, 'ar', 'ص', 'ص')`,
          [inA, b.orgId],
        ),
      ),
    ).toBe(FOREIGN_KEY);
  });

  it('keeps the audit log append-only but deletable', async () => {
    const { orgId, userId } = await createTenant(database);
    const id = newId('auditLog');
    await database.db.insert(auditLog).values({
      id,
      orgId,
      actorType: 'user',
      actorId: userId,
      action: 'content.publish',
      ip: '203.0.113.7',
    });
    expect(
      await sqlState(database.query(`update audit_log set action = 'x' where id = $1`, [id])),
    ).toBe('23000');
    await database.query('delete from audit_log where id = $1', [id]);
  });

  it('requires completed_at exactly when an operation is final', async () => {
    const { orgId } = await createTenant(database);
    const id = newId('operation');
    await database.db.insert(operations).values({ id, orgId, kind: 'content.create' });
    expect(
      await sqlState(
        database.query(`update operations set status = 'applied' where id = $1`, [id]),
      ),
    ).toBe(CHECK);
    await database.query(
      `update operations set status = 'applied', completed_at = now() where id = $1`,
      [id],
    );
    // Every final status, partially_applied too; a pending one never has it.
    for (const status of ['partially_applied', 'failed']) {
      const other = newId('operation');
      await database.db.insert(operations).values({ id: other, orgId, kind: 'content.bulk' });
      expect(
        await sqlState(
          database.query(`update operations set status = $2 where id = $1`, [other, status]),
        ),
      ).toBe(CHECK);
    }
    expect(
      await sqlState(
        database.query(`update operations set status = 'running' where id = $1`, [id]),
      ),
    ).toBe(CHECK);
  });

  it('deletes everything an organisation owns with it', async () => {
    const { orgId } = await createTenant(database);
    const contentId = await createContent(database, orgId, [
      { locale: 'en', title: 'Gone', slug: 'gone' },
    ]);
    await database.query(
      `insert into events (id, occurred_at, org_id, type, content_id) values ($1, now(), $2, 'content.viewed', $3)`,
      [newId('event'), orgId, contentId],
    );
    await database.query('delete from organizations where id = $1', [orgId]);
    const [counts] = await database.query<{ n: string }>(
      `select (select count(*) from content where org_id = $1)
            + (select count(*) from content_translations where org_id = $1)
            + (select count(*) from events where org_id = $1)
            + (select count(*) from memberships where org_id = $1) as n`,
      [orgId],
    );
    expect(Number(counts?.n)).toBe(0);
  });
});
