import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSnapshots } from '../../../../shared/content/store.ts';
import { content, contentTranslations, operations } from '../../../../shared/db/schema/index.ts';
import { newId } from '../../../../shared/ids.ts';
import type { Envelope } from '../../../../shared/messages.ts';
import { indexContent } from '../../../../shared/search/index-entry.ts';
import { readIndexVersion } from '../../../../shared/search/index-version.ts';
import {
  forgetNamespaces,
  indexNamespaces,
  writeNamespaces,
} from '../../../../shared/search/namespace.ts';
import { REINDEX_PAGE } from '../../../../shared/search/reindex.ts';
import { vectorSearch } from '../../../../shared/search/vector-search.ts';
import { bearer, createMember, createTenant, tokenFor } from '../../auth.ts';
import { deliver, recordingQueue } from '../../consumers/deliver.ts';
import {
  call,
  eventually,
  expectProblem,
  runCron,
  testDb,
  testServices,
  untilQuiet,
} from '../../helpers.ts';
import { insertContent } from '../content/fixtures.ts';

afterAll(() => untilQuiet(), 40_000);

describe('POST /v1/search/reindex', () => {
  let orgId: string;
  let ownerAuth: Record<string, string>;
  const ids: string[] = [];
  let unindexed: string;
  let gone: string;

  beforeAll(async () => {
    const tenant = await createTenant('reindex');
    orgId = tenant.orgId;
    ownerAuth = bearer((await tokenFor(tenant.owner)).token);
    // More than a page of published items, in Postgres only.
    const rows = Array.from({ length: REINDEX_PAGE + 20 }, (_, i) => ({
      id: newId('content'),
      orgId,
      status: 'published' as const,
      defaultLocale: 'en',
      publishedAt: new Date('2026-11-01T00:00:00Z'),
      // The first, left out of the current index, has a word of its own to search for.
      title: i === 0 ? 'Rebuilt wombat quokka' : `Rebuilt item ${i} quokka`,
    }));
    await testDb()
      .insert(content)
      .values(rows.map(({ title: _, ...row }) => row));
    await testDb()
      .insert(contentTranslations)
      .values(
        rows.map((r) => ({
          contentId: r.id,
          orgId,
          locale: 'en',
          title: r.title,
          body: 'Body.',
          slug: `rebuilt-${r.id.slice(-10)}`,
        })),
      );
    ids.push(...rows.map((r) => r.id));
    unindexed = ids[0]!;
    // The current index: every item but one, and an entry for an item deleted since.
    const services = testServices();
    const snapshots = await loadSnapshots(testDb(), orgId, ids.slice(1));
    for (const snapshot of snapshots.values()) await indexContent(services, snapshot);
    gone = (
      await insertContent(orgId, {
        status: 'published',
        translations: { en: { title: 'Vanished quokka', body: 'Gone.' } },
      })
    ).id;
    const [goneSnapshot] = (await loadSnapshots(testDb(), orgId, [gone])).values();
    await indexContent(services, goneSnapshot!);
    await testDb().update(content).set({ deletedAt: new Date() }).where(eq(content.id, gone));
  });

  const found = async (namespace: string) =>
    new Set(
      (
        await vectorSearch(testServices(), {
          orgId,
          namespace,
          text: 'quokka',
          side: 'sparse',
          topK: 1_000,
        })
      ).map((h) => h.contentId),
    );

  it('rebuilds the index from Postgres into a new namespace and swaps it in', async () => {
    const services = testServices();
    const versionBefore = await readIndexVersion(services, orgId);
    // JOBS only records: the test delivers each message itself.
    const jobs = recordingQueue<Envelope>('JOBS', { hold: true });
    const response = await call(
      '/v1/search/reindex',
      { method: 'POST', headers: ownerAuth },
      { JOBS: jobs.queue },
    );
    expect(response.status).toBe(202);
    const { operation } = (await response.json()) as { operation: { id: string; url: string } };
    expect(response.headers.get('location')).toBe(operation.url);
    expect(jobs.sent).toHaveLength(1);
    expect(jobs.sent[0]).toMatchObject({ type: 'search.reindex' });
    expect(jobs.delays[0]).toBe(10);

    // Someone watches the operation's channel (a ticket marks it listened to).
    const channel = `operation:${operation.id}`;
    const issued = await call('/v1/realtime/tickets', {
      method: 'POST',
      headers: { ...ownerAuth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ channels: [channel] }),
    });
    expect(issued.status).toBe(201);
    const { ticket } = (await issued.json()) as { ticket: string };

    // A second rebuild while this one runs: 409 naming it.
    const again = await expectProblem(
      await call(
        '/v1/search/reindex',
        { method: 'POST', headers: ownerAuth },
        { JOBS: jobs.queue },
      ),
      409,
    );
    expect(again).toMatchObject({ operation_id: operation.id });

    forgetNamespaces(orgId);
    const during = await indexNamespaces(services, orgId);
    expect(during.active).toBe(orgId);
    const building = during.building!.namespace;
    expect(building).toMatch(new RegExp(`^${orgId}\\.g\\d+$`));

    // A change made during the rebuild reaches both namespaces.
    const late = (
      await insertContent(orgId, {
        status: 'published',
        translations: { en: { title: 'Late quokka', body: 'Written meanwhile.' } },
      })
    ).id;
    const [lateSnapshot] = (await loadSnapshots(testDb(), orgId, [late])).values();
    await indexContent(services, lateSnapshot!, writeNamespaces(during));

    // Play the pages: the first, a duplicate of it (ignored), then each next page.
    const firstPage = jobs.sent[0]!;
    await deliver('sift-jobs', [firstPage], { overrides: { JOBS: jobs.queue } });
    const progress = async () =>
      (
        await testDb()
          .select({ status: operations.status, progress: operations.progress })
          .from(operations)
          .where(and(eq(operations.id, operation.id), eq(operations.orgId, orgId)))
      )[0]!;
    expect(await progress()).toMatchObject({
      status: 'running',
      progress: { done: REINDEX_PAGE, total: ids.length + 1 },
    });
    expect(jobs.sent).toHaveLength(2);
    await deliver('sift-jobs', [firstPage], { overrides: { JOBS: jobs.queue } });
    expect(jobs.sent).toHaveLength(2);
    // Searches still answer from the old index.
    expect((await found(orgId)).has(gone)).toBe(true);

    const polled = await call(operation.url, { headers: ownerAuth });
    expect(await polled.json()).toMatchObject({
      status: 'running',
      kind: 'search.reindex',
      progress: { done: REINDEX_PAGE },
    });

    await deliver('sift-jobs', [jobs.sent[1]!], { overrides: { JOBS: jobs.queue } });
    expect(await progress()).toMatchObject({
      status: 'applied',
      progress: { done: ids.length + 1, total: ids.length + 1 },
    });
    // The channel heard each page's progress, then the end (the duplicate page added nothing).
    const params = new URLSearchParams({ channel, ticket, since: '0' });
    const ws = (await call(`/v1/realtime/connect?${params}`, { headers: { Upgrade: 'websocket' } }))
      .webSocket!;
    const heard: { type: string; event?: { type: string; data: unknown } }[] = [];
    ws.addEventListener('message', (e) => heard.push(JSON.parse(e.data as string)));
    ws.accept();
    const events = await eventually(async () => {
      const got = heard.filter((m) => m.type === 'event');
      return got.length >= 2 && got;
    });
    expect(events.map((m) => [m.event!.type, m.event!.data])).toEqual([
      ['operation.progress', { done: REINDEX_PAGE, total: ids.length + 1 }],
      ['operation.completed', { status: 'applied', done: ids.length + 1, total: ids.length + 1 }],
    ]);
    ws.close(1000);

    forgetNamespaces(orgId);
    expect(await indexNamespaces(services, orgId)).toEqual({ active: building, building: null });
    expect(await readIndexVersion(services, orgId)).toBeGreaterThan(versionBefore!);

    const rebuilt = await found(building);
    expect(rebuilt.has(unindexed)).toBe(true);
    expect(rebuilt.has(late)).toBe(true);
    expect(rebuilt.has(gone)).toBe(false);
    expect(rebuilt.size).toBe(ids.length + 1);

    // Searches use the new namespace.
    const search = await call('/v1/search?q=vanished+wombat&mode=keyword&limit=50', {
      headers: ownerAuth,
    });
    const hits = ((await search.json()) as { hits: { id: string }[] }).hits.map((h) => h.id);
    expect(hits).toContain(unindexed);
    expect(hits).not.toContain(gone);

    // The old namespace is retired, and dropped by the cron job once no isolate reads it.
    const cron = async (minutes: number) =>
      (await runCron('*/10 * * * *', Date.now() + minutes * 60_000))?.[
        'drop-retired-search-namespaces'
      ];
    // (The set of retired namespaces is shared: other tests' may be due as well.)
    await cron(0);
    expect(await services.vector.listNamespaces()).toContain(orgId);
    const later = await cron(2);
    expect(later?.dropped).toBeGreaterThanOrEqual(1);
    expect(await services.vector.listNamespaces()).not.toContain(orgId);
    expect(await services.vector.listNamespaces()).toContain(building);
  });

  it('needs settings:manage', async () => {
    const editor = await createMember(orgId, 'editor');
    await expectProblem(
      await call('/v1/search/reindex', {
        method: 'POST',
        headers: bearer((await tokenFor(editor)).token),
      }),
      403,
    );
  });
});
