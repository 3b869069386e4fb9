import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { events } from '../../shared/db/schema/index.ts';
import { newId } from '../../shared/ids.ts';
import { createTenant } from './fixtures.ts';
import { backends, openDatabase, sqlState, type TestDatabase } from './harness.ts';

/** `events_YYYY_MM` for the UTC month `offset` months from now, and its first instant. */
function month(offset: number): { name: string; start: Date } {
  const now = new Date();
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1));
  const name = `events_${start.getUTCFullYear()}_${String(start.getUTCMonth() + 1).padStart(2, '0')}`;
  return { name, start };
}

describe.each(backends)('events partitions (%s)', (backend) => {
  let database: TestDatabase;
  let orgId: string;
  beforeAll(async () => {
    database = await openDatabase(backend);
    ({ orgId } = await createTenant(database));
  });
  afterAll(() => database?.close());

  const partitions = async () =>
    (
      await database.query<{ name: string; bound: string }>(
        `select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound
         from pg_inherits i join pg_class c on c.oid = i.inhrelid
         where i.inhparent = 'events'::regclass order by 1`,
      )
    ).map((p) => p.name);

  const insertEvent = async (occurredAt: Date) => {
    const id = newId('event');
    await database.db
      .insert(events)
      .values({ id, occurredAt, orgId, type: 'content.viewed', data: { locale: 'ar' } });
    const [row] = await database.query<{ partition: string }>(
      'select tableoid::regclass::text as partition from events where id = $1',
      [id],
    );
    return row?.partition;
  };

  it('has the current month, three more and a DEFAULT partition after migrating', async () => {
    expect(await partitions()).toEqual([
      month(0).name,
      month(1).name,
      month(2).name,
      month(3).name,
      'events_default',
    ]);
  });

  it('bounds each partition by UTC months', async () => {
    const [row] = await database.query<{ bound: string }>(
      `select pg_get_expr(c.relpartbound, c.oid) as bound from pg_class c where relname = $1`,
      [month(1).name],
    );
    const from = month(1).start.toISOString().slice(0, 10);
    const to = month(2).start.toISOString().slice(0, 10);
    expect(row?.bound).toMatch(
      new RegExp(`FROM \\('${from} 00:00:00\\+00'\\) TO \\('${to} 00:00:00\\+00'\\)`),
    );
  });

  it('routes a row to the partition of its month, including its first and last instants', async () => {
    expect(await insertEvent(new Date())).toBe(month(0).name);
    expect(await insertEvent(month(1).start)).toBe(month(1).name);
    expect(await insertEvent(new Date(month(2).start.getTime() - 1))).toBe(month(1).name);
  });

  it('routes a row of a month without a partition to DEFAULT', async () => {
    expect(await insertEvent(new Date(month(-14).start.getTime() + 3_600_000))).toBe(
      'events_default',
    );
    expect(await insertEvent(new Date(month(9).start.getTime() + 3_600_000))).toBe(
      'events_default',
    );
  });

  it('ensure_event_partitions is idempotent', async () => {
    const again = await database.query<{ name: string }>(
      'select ensure_event_partitions(3) as name',
    );
    expect(again).toEqual([]);
    const before = await partitions();
    await database.query('select ensure_event_partitions(2)');
    expect(await partitions()).toEqual(before);
  });

  it('creates the months ahead and moves their rows out of DEFAULT', async () => {
    const id = newId('event');
    const occurredAt = new Date(month(6).start.getTime() + 86_400_000);
    await database.db.insert(events).values({ id, occurredAt, orgId, type: 'search.performed' });
    const created = await database.query<{ name: string }>(
      'select ensure_event_partitions(6) as name',
    );
    expect(created.map((r) => r.name)).toEqual([4, 5, 6].map((m) => month(m).name));
    const [row] = await database.query<{ partition: string }>(
      'select tableoid::regclass::text as partition from events where id = $1',
      [id],
    );
    expect(row?.partition).toBe(month(6).name);
    // The moved partition has the parent's indexes (the primary key, by time, by content, by
    // type, and by session, anonymous reader and user) and foreign key like any other.
    const [shape] = await database.query<{ indexes: string; fks: string }>(
      `select (select count(*) from pg_index where indrelid = $1::regclass) as indexes,
              (select count(*) from pg_constraint where conrelid = $1::regclass and contype = 'f') as fks`,
      [month(6).name],
    );
    expect({ indexes: Number(shape?.indexes), fks: Number(shape?.fks) }).toEqual({
      indexes: 7,
      fks: 1,
    });
  });

  it('rejects a negative horizon', async () => {
    expect(await sqlState(database.query('select ensure_event_partitions(-1)'))).toBe('P0001');
  });

  it('deduplicates a redelivered event on (id, occurred_at)', async () => {
    const row = { id: newId('event'), occurredAt: new Date(), orgId, type: 'content.viewed' };
    await database.db.insert(events).values(row);
    const replay = await database.db.insert(events).values(row).onConflictDoNothing().returning();
    expect(replay).toEqual([]);
  });
});
