import { Pool } from '@neondatabase/serverless';
import { and, asc, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  categories,
  content,
  contentTranslations,
  contentVersions,
  operations,
} from '../../../shared/db/schema/index.ts';
import { newId } from '../../../shared/ids.ts';
import { createOrg, DEAD_DATABASE_URL, testDb } from '../helpers.ts';
import { contentWrites, time } from './content-writes.ts';
import { deliver, recordingDlq } from './deliver.ts';

const db = testDb();

describe('the WRITES consumer (content.write)', () => {
  let orgId: string;
  let contentId: string;

  beforeEach(async () => {
    orgId = await createOrg('writes');
    contentId = newId('content');
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  const { snapshot, write } = contentWrites(() => ({ orgId, contentId }), {
    translations: (version, contentId) => ({
      en: { title: `Hello v${version}`, summary: null, body: 'Body', slug: `hello-${contentId}` },
      ar: { title: 'مرحبا', summary: 'ملخص', body: 'نص', slug: `مرحبا-${contentId}` },
    }),
    origin: { requestId: 'req-writes' },
  });

  const item = async (id = contentId) =>
    (await db.select().from(content).where(eq(content.id, id)))[0];
  const translations = async (id = contentId) =>
    db
      .select()
      .from(contentTranslations)
      .where(eq(contentTranslations.contentId, id))
      .orderBy(asc(contentTranslations.locale));
  const versions = async (id = contentId) =>
    db
      .select()
      .from(contentVersions)
      .where(eq(contentVersions.contentId, id))
      .orderBy(asc(contentVersions.version));
  const operation = async (id: string) =>
    (await db.select().from(operations).where(eq(operations.id, id)))[0];

  it('creates the item, its translations, version 1 and an applied operation', async () => {
    const create = write(1);
    const { batch, result } = await deliver('sift-writes', [create.body]);
    expect(result.explicitAcks).toEqual([batch.messages[0]!.id]);
    expect(result.retryMessages).toEqual([]);
    expect(await item()).toMatchObject({
      orgId,
      status: 'draft',
      version: 1,
      tags: ['news'],
      metadata: { v: 1 },
      defaultLocale: 'en',
      deletedAt: null,
    });
    expect((await translations()).map((t) => [t.locale, t.title, t.deletedAt])).toEqual([
      ['ar', 'مرحبا', null],
      ['en', 'Hello v1', null],
    ]);
    const [v1] = await versions();
    expect(v1).toMatchObject({
      version: 1,
      operationId: create.operationId,
      snapshot: snapshot(1),
    });
    expect(await operation(create.operationId)).toMatchObject({
      orgId,
      kind: 'content.create',
      status: 'applied',
      resourceType: 'content',
      resourceId: contentId,
      error: null,
    });
    expect((await operation(create.operationId))?.completedAt).toBeInstanceOf(Date);
  });

  it('applies a higher version and marks a queued operation applied', async () => {
    await deliver('sift-writes', [write(1).body]);
    const operationId = newId('operation');
    await db.insert(operations).values({ id: operationId, orgId, kind: 'content.update' });
    const { translations: t } = snapshot(2);
    const update = write(2, {
      operationId,
      snapshot: snapshot(2, { status: 'in_review', translations: { en: t.en! } }),
    });
    await deliver('sift-writes', [update.body]);
    expect(await item()).toMatchObject({ version: 2, status: 'in_review', metadata: { v: 2 } });
    // The Arabic translation left the snapshot: it is soft-deleted, its slug freed.
    const rows = await translations();
    expect(rows.map((r) => [r.locale, r.deletedAt !== null])).toEqual([
      ['ar', true],
      ['en', false],
    ]);
    expect(rows[1]?.title).toBe('Hello v2');
    expect((await versions()).map((v) => v.version)).toEqual([1, 2]);
    expect(await operation(operationId)).toMatchObject({ status: 'applied', error: null });
  });

  it('acks a redelivery without changing anything', async () => {
    const create = write(1);
    await deliver('sift-writes', [create.body]);
    const before = {
      item: await item(),
      translations: await translations(),
      versions: await versions(),
      operation: await operation(create.operationId),
    };
    const { result } = await deliver('sift-writes', [create.body, create.body], { attempts: 2 });
    expect(result.explicitAcks).toHaveLength(2);
    expect(result.retryMessages).toEqual([]);
    expect({
      item: await item(),
      translations: await translations(),
      versions: await versions(),
      operation: await operation(create.operationId),
    }).toEqual(before);
  });

  it('records a version arriving late without rolling the item back', async () => {
    const late = write(2);
    await deliver('sift-writes', [write(1).body, write(3).body, late.body]);
    expect(await item()).toMatchObject({ version: 3, metadata: { v: 3 } });
    expect((await translations()).find((t) => t.locale === 'en')?.title).toBe('Hello v3');
    expect((await versions()).map((v) => [v.version, v.snapshot.metadata])).toEqual([
      [1, { v: 1 }],
      [2, { v: 2 }],
      [3, { v: 3 }],
    ]);
    expect((await operation(late.operationId))?.status).toBe('applied');
  });

  it('applies the newest version even when it arrives before the create', async () => {
    await deliver('sift-writes', [write(2).body, write(1).body]);
    expect(await item()).toMatchObject({ version: 2 });
    expect((await versions()).map((v) => v.version)).toEqual([1, 2]);
  });

  it('never overwrites a recorded version with a different snapshot', async () => {
    await deliver('sift-writes', [write(1).body]);
    const original = await versions();
    const dlq = recordingDlq<{ dead_letter: { reason: string } }>('WRITES_DLQ');
    const clash = write(1, { snapshot: snapshot(1, { tags: ['other'] }) });
    const { result } = await deliver('sift-writes', [clash.body], {
      overrides: { WRITES_DLQ: dlq.queue },
    });
    expect(result.explicitAcks).toHaveLength(1);
    expect(dlq.sent).toHaveLength(1);
    expect(dlq.sent[0]?.dead_letter.reason).toContain('already recorded with different content');
    expect(await versions()).toEqual(original);
    expect((await item())?.tags).toEqual(['news']);
    expect(await operation(clash.operationId)).toMatchObject({
      status: 'failed',
      error: { status: 409, code: 'CONFLICT', errors: [{ path: 'version' }] },
    });
  });

  it('fails the operation with a 409 naming the slug when another item has it', async () => {
    await deliver('sift-writes', [write(1).body]);
    const otherId = contentId;
    const takenSlug = snapshot(1).translations.en!.slug;
    const before = await translations(otherId);
    contentId = newId('content');
    await deliver('sift-writes', [write(1).body]);
    const mine = await translations();
    const base = snapshot(2);
    const clash = write(2, {
      snapshot: {
        ...base,
        translations: { ...base.translations, en: { ...base.translations.en!, slug: takenSlug } },
      },
    });
    const dlq = recordingDlq<{ dead_letter: { reason: string } }>('WRITES_DLQ');
    const { result } = await deliver('sift-writes', [clash.body], {
      overrides: { WRITES_DLQ: dlq.queue },
    });
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toEqual([]);
    // Refused for good: the operation says why, and the dead-letter table has it.
    expect(dlq.sent).toHaveLength(1);
    expect(dlq.sent[0]?.dead_letter.reason).toContain(takenSlug);
    const failed = await operation(clash.operationId);
    expect(failed).toMatchObject({
      status: 'failed',
      kind: 'content.update',
      error: {
        type: '/problems/conflict',
        status: 409,
        code: 'CONFLICT',
        request_id: 'req-writes',
        errors: [{ path: 'translations.en.slug', code: 'slug_taken' }],
      },
    });
    expect(failed?.error?.detail).toContain(takenSlug);
    // Nothing half-written: no version 2, the item and both items' translations unchanged.
    expect((await versions()).map((v) => v.version)).toEqual([1]);
    expect(await item()).toMatchObject({ version: 1, metadata: { v: 1 } });
    expect(await translations()).toEqual(mine);
    expect(await translations(otherId)).toEqual(before);
  });

  it('fails the operation with a 422 for a category of another organisation', async () => {
    const otherOrg = await createOrg('writes-other');
    const categoryId = newId('category');
    await db.insert(categories).values({ id: categoryId, orgId: otherOrg, slug: 'foreign' });
    const create = write(1, { snapshot: snapshot(1, { category_id: categoryId }) });
    const { result } = await deliver('sift-writes', [create.body]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(await operation(create.operationId)).toMatchObject({
      status: 'failed',
      error: { status: 422, errors: [{ path: 'category_id' }] },
    });
    expect(await item()).toBeUndefined();
    expect(await versions()).toEqual([]);
  });

  it('soft-deletes the item and its translations, and restores them', async () => {
    await deliver('sift-writes', [write(1).body]);
    const deletedAt = time(30);
    await deliver('sift-writes', [
      write(2, { action: 'delete', snapshot: snapshot(2, { deleted_at: deletedAt }) }).body,
    ]);
    expect((await item())?.deletedAt?.toISOString()).toBe(deletedAt);
    expect((await translations()).map((t) => t.deletedAt?.toISOString())).toEqual([
      deletedAt,
      deletedAt,
    ]);
    const restore = write(3, { action: 'restore' });
    await deliver('sift-writes', [restore.body]);
    expect((await item())?.deletedAt).toBeNull();
    expect((await translations()).map((t) => t.deletedAt)).toEqual([null, null]);
    expect((await operation(restore.operationId))?.kind).toBe('content.restore');
  });

  it('persists a batch in one transaction, in version order per item, with exact versions', async () => {
    const first = contentId;
    const a = [write(3), write(1), write(2)];
    contentId = newId('content');
    const second = contentId;
    const b = [write(2), write(1)];
    const bodies = [a[0]!.body, b[0]!.body, a[1]!.body, b[1]!.body, a[2]!.body];
    const connect = vi.spyOn(Pool.prototype, 'connect');
    const { result } = await deliver('sift-writes', bodies);
    expect(connect).toHaveBeenCalledTimes(1);
    expect(result.explicitAcks).toHaveLength(5);
    expect(result.retryMessages).toEqual([]);
    expect((await versions(first)).map((v) => [v.version, v.snapshot.metadata])).toEqual([
      [1, { v: 1 }],
      [2, { v: 2 }],
      [3, { v: 3 }],
    ]);
    expect((await versions(second)).map((v) => v.version)).toEqual([1, 2]);
    expect(await item(first)).toMatchObject({ version: 3, metadata: { v: 3 } });
    expect(await item(second)).toMatchObject({ version: 2, metadata: { v: 2 } });
    for (const w of [...a, ...b]) expect((await operation(w.operationId))?.status).toBe('applied');
  });

  it('dead-letters only the version conflict of a batch and commits the rest', async () => {
    await deliver('sift-writes', [write(1).body]);
    const clash = write(1, { snapshot: snapshot(1, { tags: ['other'] }) });
    const next = write(2);
    const dlq = recordingDlq<{ dead_letter: { reason: string }; body: unknown }>('WRITES_DLQ');
    const { batch, result } = await deliver('sift-writes', [next.body, clash.body], {
      overrides: { WRITES_DLQ: dlq.queue },
    });
    expect(result.explicitAcks.sort()).toEqual(batch.messages.map((m) => m.id).sort());
    expect(result.retryMessages).toEqual([]);
    expect(dlq.sent).toHaveLength(1);
    expect(dlq.sent[0]?.body).toEqual(clash.body);
    expect(dlq.sent[0]?.dead_letter.reason).toContain('already recorded with different content');
    expect((await versions()).map((v) => [v.version, v.snapshot.tags])).toEqual([
      [1, ['news']],
      [2, ['news']],
    ]);
    expect(await item()).toMatchObject({ version: 2 });
    expect((await operation(next.operationId))?.status).toBe('applied');
    expect((await operation(clash.operationId))?.status).toBe('failed');
  });

  it('retries every message of the batch when the connection drops, and a redelivery persists exactly the 20 versions', async () => {
    const writes = Array.from({ length: 20 }, (_, i) => write(i + 1));
    // The batch's transaction cannot connect, like a dropped socket.
    vi.spyOn(Pool.prototype, 'connect').mockRejectedValueOnce(
      new Error('connection reset by peer'),
    );
    const first = await deliver(
      'sift-writes',
      writes.map((w) => w.body),
    );
    vi.restoreAllMocks();
    expect(first.result.explicitAcks).toEqual([]);
    expect(first.result.retryMessages).toHaveLength(20);
    expect(await versions()).toEqual([]);
    expect(await item()).toBeUndefined();

    // The redelivery, then the same batch again (a consumer crash after commit).
    for (const attempts of [2, 3]) {
      const again = await deliver(
        'sift-writes',
        writes.map((w) => w.body),
        { attempts },
      );
      expect(again.result.explicitAcks).toHaveLength(20);
      expect(again.result.retryMessages).toEqual([]);
    }
    expect((await versions()).map((v) => v.version)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    expect(await item()).toMatchObject({ version: 20 });
    const statuses = await db
      .select({ status: operations.status })
      .from(operations)
      .where(and(eq(operations.orgId, orgId), eq(operations.resourceId, contentId)));
    expect(statuses).toHaveLength(20);
    expect(statuses.every((s) => s.status === 'applied')).toBe(true);
  });

  it('retries every message of the batch, without acking, while Postgres is down', async () => {
    const writes = [write(1), write(2), write(3)];
    const { batch, result } = await deliver(
      'sift-writes',
      writes.map((w) => w.body),
      { overrides: { DATABASE_URL: DEAD_DATABASE_URL } },
    );
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((m) => m.msgId).sort()).toEqual(
      batch.messages.map((m) => m.id).sort(),
    );
    expect(await item()).toBeUndefined();
    for (const w of writes) expect(await operation(w.operationId)).toBeUndefined();
  });

  it('dead-letters a payload whose snapshot is not the message item', async () => {
    const dlq = recordingDlq<{ dead_letter: { reason: string } }>('WRITES_DLQ');
    const bad = write(1, { snapshot: snapshot(2) });
    const { result } = await deliver('sift-writes', [bad.body], {
      overrides: { WRITES_DLQ: dlq.queue },
    });
    expect(result.explicitAcks).toHaveLength(1);
    expect(dlq.sent[0]?.dead_letter.reason).toContain('snapshot.version: must equal version');
    expect(await item()).toBeUndefined();
  });
});
