import {
  createExecutionContext,
  createScheduledController,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { eq, sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { idempotencyRecords } from '../../../shared/db/schema/index.ts';
import { PARTITION_MONTHS_AHEAD } from '../../../workers/cron/ensure-event-partitions.ts';
import worker from '../../../workers/index.ts';
import { captureLogs, createOrg, runCron, testDb } from '../helpers.ts';

const db = testDb();

describe('cron: prune expired idempotency records', () => {
  it('deletes expired records and keeps live ones', async () => {
    const orgId = await createOrg('cron');
    const hour = 60 * 60 * 1000;
    const record = (key: string, createdAgo: number, expiresIn: number) => ({
      orgId,
      key,
      requestFingerprint: 'f'.repeat(64),
      responseStatus: 202,
      responseBody: '{}',
      createdAt: new Date(Date.now() - createdAgo),
      expiresAt: new Date(Date.now() + expiresIn),
    });
    await db
      .insert(idempotencyRecords)
      .values([
        record('expired-1', 30 * hour, -6 * hour),
        record('expired-2', 25 * hour, -1 * hour),
        record('live', 1 * hour, 23 * hour),
      ]);

    const outcome = (await runCron('17 * * * *'))?.['prune-idempotency'];
    expect(outcome?.deleted).toBeGreaterThanOrEqual(2);
    const left = await db
      .select({ key: idempotencyRecords.key })
      .from(idempotencyRecords)
      .where(eq(idempotencyRecords.orgId, orgId));
    expect(left.map((r) => r.key)).toEqual(['live']);
  });
});

describe('cron: ensure event partitions', () => {
  it(`creates the partitions of this month and the next ${PARTITION_MONTHS_AHEAD}`, async () => {
    await runCron('0 3 * * *');
    const now = new Date();
    for (let i = 0; i <= PARTITION_MONTHS_AHEAD; i++) {
      const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + i, 1));
      const name = `events_${month.getUTCFullYear()}_${String(month.getUTCMonth() + 1).padStart(2, '0')}`;
      const result = await db.execute(sql`select to_regclass(${name}) is not null as present`);
      expect(result.rows[0], name).toEqual({ present: true });
    }
    // Running again creates nothing new.
    expect(await runCron('0 3 * * *')).toEqual({ 'ensure-event-partitions': { created: 0 } });
  });
});

describe('the scheduled entry', () => {
  let logs: ReturnType<typeof captureLogs> | undefined;
  afterEach(() => logs?.restore());

  it('runs the job declared for each cron trigger in wrangler.toml', async () => {
    logs = captureLogs();
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: '17 * * * *' }), env, ctx);
    await waitOnExecutionContext(ctx);
    expect(logs.lines.find((l) => l.msg === 'cron job done')).toMatchObject({
      job: 'prune-idempotency',
      cron: '17 * * * *',
    });
  });

  it('logs an error for a cron expression with no job', async () => {
    logs = captureLogs();
    expect(await runCron('5 4 * * *')).toBeUndefined();
    expect(logs.lines.find((l) => l.level === 'error')).toMatchObject({
      msg: 'no job for this cron expression',
    });
  });
});
