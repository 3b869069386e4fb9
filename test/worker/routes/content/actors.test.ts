import { and, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadSnapshots } from '../../../../shared/content/store.ts';
import { content, contentVersions, operations } from '../../../../shared/db/schema/index.ts';
import { bearer, createMember, createTenant, tokenFor } from '../../auth.ts';
import { recordingQueue } from '../../consumers/deliver.ts';
import { call, testDb, untilQuiet } from '../../helpers.ts';
import { insertKey } from '../keys/fixtures.ts';

afterAll(() => untilQuiet(), 40_000);

const json = (auth: Record<string, string>, body: unknown, method = 'POST') => ({
  method,
  headers: { ...auth, 'Content-Type': 'application/json' },
  body: JSON.stringify(body),
});

type Accepted = {
  content: { id: string; version: number; created_by: string | null; updated_by: string | null };
  operation: { id: string };
};

describe('the actor of content writes', () => {
  it('records an API key as the actor of what it writes: item, versions and operations', async () => {
    const { orgId } = await createTenant('content-actors');
    const key = await insertKey(orgId, { scopes: ['content:read', 'content:write'] });
    const byKey = bearer(key.secret);
    const editor = await createMember(orgId, 'editor');
    const byUser = bearer((await tokenFor(editor)).token);

    const created = await call(
      '/v1/content',
      json(byKey, { translations: { en: { title: 'K' } } }),
    );
    expect(created.status).toBe(202);
    const first = (await created.json()) as Accepted;
    expect(first.content).toMatchObject({ created_by: key.id, updated_by: key.id });
    const id = first.content.id;
    const patched = await call(`/v1/content/${id}`, json(byUser, { tags: ['x'] }, 'PATCH'));
    const second = (await patched.json()) as Accepted;
    expect(second.content).toMatchObject({ created_by: key.id, updated_by: editor.userId });

    await vi.waitFor(
      async () => {
        const rows = await testDb()
          .select({ version: contentVersions.version, createdBy: contentVersions.createdBy })
          .from(contentVersions)
          .where(eq(contentVersions.contentId, id));
        expect(rows.sort((a, b) => a.version - b.version)).toEqual([
          { version: 1, createdBy: key.id },
          { version: 2, createdBy: editor.userId },
        ]);
      },
      { timeout: 15_000, interval: 100 },
    );
    // The version history, read from Postgres.
    const history = await call(`/v1/content/${id}/versions`, { headers: byKey });
    expect(((await history.json()) as { items: unknown[] }).items).toEqual([
      expect.objectContaining({ version: 2, created_by: editor.userId }),
      expect.objectContaining({ version: 1, created_by: key.id }),
    ]);
    const v1 = await call(`/v1/content/${id}/versions/1`, { headers: byUser });
    expect(await v1.json()).toMatchObject({
      created_by: key.id,
      snapshot: { created_by: key.id, updated_by: key.id },
    });
    // The item as Postgres holds it (what every read falls back to), and each operation.
    const [row] = await testDb()
      .select({ createdBy: content.createdBy, updatedBy: content.updatedBy })
      .from(content)
      .where(and(eq(content.id, id), eq(content.orgId, orgId)));
    expect(row).toEqual({ createdBy: key.id, updatedBy: editor.userId });
    const snapshot = (await loadSnapshots(testDb(), orgId, [id])).get(id);
    expect(snapshot).toMatchObject({ created_by: key.id, updated_by: editor.userId });
    for (const [operationId, actor] of [
      [first.operation.id, key.id],
      [second.operation.id, editor.userId],
    ]) {
      const [op] = await testDb()
        .select({ createdBy: operations.createdBy })
        .from(operations)
        .where(eq(operations.id, operationId!));
      expect(op?.createdBy).toBe(actor);
    }
  });

  it('records the key as the actor of a bulk request’s items and of a version restored', async () => {
    const { orgId } = await createTenant('content-actors-bulk');
    const key = await insertKey(orgId, { scopes: ['content:read', 'content:write'] });
    const byKey = bearer(key.secret);
    const response = await call(
      '/v1/content/bulk',
      json(byKey, { items: [{ op: 'create', data: { translations: { en: { title: 'B' } } } }] }),
    );
    const [result] = ((await response.json()) as { results: { id: string }[] }).results;
    const id = result!.id;
    await call(`/v1/content/${id}`, json(byKey, { tags: ['y'] }, 'PATCH'));
    const persisted = async () =>
      testDb()
        .select({ createdBy: contentVersions.createdBy })
        .from(contentVersions)
        .where(eq(contentVersions.contentId, id));
    // Version 1 is read from Postgres to be restored.
    await vi.waitFor(async () => expect(await persisted()).toHaveLength(2), {
      timeout: 15_000,
      interval: 100,
    });
    const restored = await call(`/v1/content/${id}/versions/1/restore`, {
      method: 'POST',
      headers: byKey,
    });
    expect(restored.status).toBe(202);
    expect(((await restored.json()) as Accepted).content).toMatchObject({
      version: 3,
      updated_by: key.id,
    });
    await vi.waitFor(
      async () =>
        expect((await persisted()).map((r) => r.createdBy)).toEqual([key.id, key.id, key.id]),
      { timeout: 15_000, interval: 100 },
    );
  });

  it('records an API key as the actor of the operations it starts (a search reindex)', async () => {
    const { orgId } = await createTenant('actors-reindex');
    const key = await insertKey(orgId, { scopes: ['settings:manage'] });
    // JOBS only records: the rebuild itself is not what this is about.
    const jobs = recordingQueue('JOBS', { hold: true });
    const response = await call(
      '/v1/search/reindex',
      { method: 'POST', headers: bearer(key.secret) },
      { JOBS: jobs.queue },
    );
    expect(response.status).toBe(202);
    const { operation } = (await response.json()) as { operation: { id: string } };
    const [row] = await testDb()
      .select({ createdBy: operations.createdBy, kind: operations.kind })
      .from(operations)
      .where(eq(operations.id, operation.id));
    expect(row).toEqual({ createdBy: key.id, kind: 'search.reindex' });
  });
});
