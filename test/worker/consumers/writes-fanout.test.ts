import { env } from 'cloudflare:workers';
import { Index } from '@upstash/vector';
import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ledgerOf } from '../../../durable-objects/content-ledger.ts';
import { cacheKey, type Entry } from '../../../shared/cache/index.ts';
import type { ContentEventType } from '../../../shared/content/fanout.ts';
import type { WriteAction } from '../../../shared/content/writes.ts';
import { type ContentSnapshot, content, contentVersions } from '../../../shared/db/schema/index.ts';
import { newId } from '../../../shared/ids.ts';
import type { Envelope } from '../../../shared/messages.ts';
import { resetBreakers } from '../../../shared/resilience/circuit-breaker.ts';
import { readIndexVersion } from '../../../shared/search/index-version.ts';
import { denseText } from '../../../shared/search/records.ts';
import { sparseDocumentVector } from '../../../shared/search/sparse.ts';
import { vectorSearch } from '../../../shared/search/vector-search.ts';
import { formatTraceparent, startSpan } from '../../../shared/trace.ts';
import { captureLogs, createOrg, DEAD_URL, eventually, testDb, testServices } from '../helpers.ts';
import { contentWrites, time } from './content-writes.ts';
import { deliver, recordingDlq, recordingQueue } from './deliver.ts';

const db = testDb();

/** The vector index as the Worker reaches it: same URL and token, the official SDK. */
const index = new Index({
  url: env.UPSTASH_VECTOR_REST_URL,
  token: env.UPSTASH_VECTOR_REST_TOKEN,
});

describe('the WRITES consumer after persisting', () => {
  let orgId: string;
  let contentId: string;
  const trace = startSpan(undefined);

  beforeEach(async () => {
    orgId = await createOrg('fanout');
    contentId = newId('content');
  });

  afterEach(() => {
    vi.restoreAllMocks();
    resetBreakers();
  });

  const { snapshot, write } = contentWrites(() => ({ orgId, contentId }), {
    translations: (version, contentId) => ({
      en: {
        title: `Lighthouse keepers v${version}`,
        summary: 'Coastal stories',
        body: 'Keeping the lamp lit through winter storms.',
        slug: `lighthouse-${contentId}`,
      },
      ar: {
        title: 'حراس المنارة',
        summary: null,
        body: 'قصص من الساحل',
        slug: `منارة-${contentId}`,
      },
    }),
    origin: { requestId: 'req-fanout', trace },
  });

  const published = (version: number, changes: Partial<ContentSnapshot> = {}) =>
    snapshot(version, { status: 'published', published_at: time(1), ...changes });

  /** Delivers `bodies` as one batch with a recording `JOBS`; returns what was enqueued. */
  async function deliverRecording(bodies: unknown[], attempts = 1) {
    const jobs = recordingQueue<Envelope>('JOBS');
    const delivery = await deliver('sift-writes', bodies, {
      attempts,
      overrides: { JOBS: jobs.queue },
    });
    return { ...delivery, sent: jobs.sent };
  }

  const kv = async (key: { orgId: string; id: string; version?: number }) =>
    (await env.CACHE.get<Entry<ContentSnapshot>>(cacheKey('contentDetails', key), 'json'))?.value;

  const eventTypes = (sent: Envelope[]) =>
    sent
      .filter((m) => m.type === 'webhook.dispatch')
      .map((m) => (m.payload as { event: { type: ContentEventType } }).event.type);

  describe('fan-out to JOBS', () => {
    it('enqueues realtime.publish and webhook.dispatch with the exact payloads', async () => {
      const create = write(1);
      const { result, sent } = await deliverRecording([create.body]);
      expect(result.explicitAcks).toHaveLength(1);
      const event = { id: `${contentId}.v1`, type: 'content.created', occurred_at: time(1) };
      expect(sent.map(({ type, payload }) => ({ type, payload }))).toEqual([
        {
          type: 'realtime.publish',
          payload: {
            org_id: orgId,
            channels: [`org:${orgId}`, `content:${contentId}`],
            event: {
              ...event,
              data: {
                content_id: contentId,
                version: 1,
                status: 'draft',
                operation_id: create.operationId,
              },
            },
          },
        },
        {
          type: 'webhook.dispatch',
          payload: {
            org_id: orgId,
            event: {
              ...event,
              data: {
                content: {
                  id: contentId,
                  version: 1,
                  status: 'draft',
                  available_locales: ['ar', 'en'],
                  updated_at: time(1),
                  deleted_at: null,
                },
                operation_id: create.operationId,
              },
            },
          },
        },
      ]);
      // Each message carries the write's request id, organisation and trace.
      for (const message of sent) {
        expect(message.meta).toMatchObject({ request_id: 'req-fanout', org_id: orgId });
        expect(message.meta.traceparent).toMatch(new RegExp(`^00-${trace.traceId}-`));
        expect(message.meta.traceparent).not.toBe(formatTraceparent(trace));
      }
    });

    it('names each edit and workflow step by its event, in version order', async () => {
      const steps: [WriteAction, Partial<ContentSnapshot>][] = [
        ['create', {}],
        ['transition', { status: 'in_review' }],
        ['transition', { status: 'draft' }],
        ['transition', { status: 'in_review' }],
        ['transition', { status: 'approved' }],
        ['transition', { status: 'approved', publish_at: time(50) }],
        ['transition', { status: 'published', published_at: time(7) }],
        ['transition', { status: 'approved', published_at: time(7) }],
        ['transition', { status: 'archived', published_at: time(7) }],
        ['transition', { status: 'draft', published_at: time(7) }],
        ['update', { published_at: time(7) }],
        ['delete', { published_at: time(7), deleted_at: time(12) }],
        ['restore', { published_at: time(7) }],
      ];
      const writes = steps.map(([action, changes], i) =>
        write(i + 1, { action, snapshot: snapshot(i + 1, changes) }),
      );
      // Shuffled: the consumer sorts by version.
      const bodies = writes.map((w) => w.body).reverse();
      const { result, sent } = await deliverRecording(bodies);
      expect(result.explicitAcks).toHaveLength(steps.length);
      expect(eventTypes(sent)).toEqual([
        'content.created',
        'content.submitted',
        'content.changes_requested',
        'content.submitted',
        'content.approved',
        'content.scheduled',
        'content.published',
        'content.unpublished',
        'content.archived',
        'content.unarchived',
        'content.updated',
        'content.deleted',
        'content.restored',
      ]);
      expect(sent.filter((m) => m.type === 'realtime.publish').map((m) => m.payload)).toHaveLength(
        steps.length,
      );
    });

    it('reports a transition as content.updated when the version it came from is not recorded', async () => {
      await deliverRecording([write(1).body]);
      const late = write(3, { action: 'transition', snapshot: snapshot(3, { status: 'draft' }) });
      const { sent } = await deliverRecording([late.body]);
      expect(eventTypes(sent)).toEqual(['content.updated']);
    });

    it('sends the same events again, with the same ids, when an applied write is redelivered', async () => {
      const create = write(1);
      const first = await deliverRecording([create.body]);
      const again = await deliverRecording([create.body, create.body], 2);
      expect(again.result.explicitAcks).toHaveLength(2);
      const strip = (sent: Envelope[]) => sent.map(({ type, payload }) => ({ type, payload }));
      expect(strip(first.sent)).toHaveLength(2);
      // Once per version, however many copies the batch holds.
      expect(strip(again.sent)).toEqual(strip(first.sent));
    });

    it('does not fan out a stale write, nor a redelivery of a version the item no longer shows', async () => {
      const v1 = write(1);
      await deliverRecording([v1.body, write(3).body]);
      const stale = await deliverRecording([write(2).body]);
      expect(stale.result.explicitAcks).toHaveLength(1);
      expect(stale.sent).toEqual([]);
      const old = await deliverRecording([v1.body], 2);
      expect(old.result.explicitAcks).toHaveLength(1);
      expect(old.sent).toEqual([]);
    });

    it('retries the writes whose events JOBS refused; the redelivery sends them', async () => {
      const create = write(1);
      const refusing = recordingQueue('JOBS', { refuse: true });
      const { batch, result } = await deliver('sift-writes', [create.body], {
        overrides: { JOBS: refusing.queue },
      });
      expect(result.explicitAcks).toEqual([]);
      expect(result.retryMessages.map((m) => m.msgId)).toEqual([batch.messages[0]!.id]);
      // The write itself is committed; only its events are owed.
      expect((await db.select().from(content).where(eq(content.id, contentId)))[0]?.version).toBe(
        1,
      );
      const again = await deliverRecording([create.body], 2);
      expect(again.result.explicitAcks).toHaveLength(1);
      expect(eventTypes(again.sent)).toEqual(['content.created']);
    });
  });

  describe('KV refresh', () => {
    it('writes the snapshot under its versioned and last-known keys, deleted ones included', async () => {
      await deliverRecording([write(1).body]);
      expect(await kv({ orgId, id: contentId, version: 1 })).toEqual(snapshot(1));
      expect(await kv({ orgId, id: contentId })).toEqual(snapshot(1));

      const gone = snapshot(2, { deleted_at: time(30) });
      await deliverRecording([write(2, { action: 'delete', snapshot: gone }).body]);
      expect(await kv({ orgId, id: contentId, version: 2 })).toEqual(gone);
      expect(await kv({ orgId, id: contentId })).toEqual(gone);
      // Another organisation's key holds nothing.
      const other = await createOrg('fanout-other');
      expect(await kv({ orgId: other, id: contentId })).toBeUndefined();
    });

    it('does not let a stale write overwrite the last-known copy', async () => {
      await deliverRecording([write(1).body, write(3).body]);
      expect((await kv({ orgId, id: contentId }))?.version).toBe(3);
      await deliverRecording([write(2).body]);
      expect(await kv({ orgId, id: contentId })).toEqual(snapshot(3));
      expect(await kv({ orgId, id: contentId, version: 2 })).toBeUndefined();
    });
    it('keeps a newer last-known copy that a concurrent batch wrote first', async () => {
      const newer = snapshot(5);
      const entry = {
        value: newer,
        freshUntil: Date.now() + 60_000,
        staleUntil: Date.now() + 60_000,
      };
      await env.CACHE.put(
        cacheKey('contentDetails', { orgId, id: contentId }),
        JSON.stringify(entry),
      );
      await deliverRecording([write(1).body]);
      expect(await kv({ orgId, id: contentId, version: 1 })).toEqual(snapshot(1));
      expect(await kv({ orgId, id: contentId })).toEqual(newer);
    });
  });

  describe('search index', () => {
    const ids = () => [`${contentId}:ar`, `${contentId}:en`];
    /** Both vectors are unit length: their dot product is the cosine. */
    const cosine = (a: number[], b: number[]) => a.reduce((sum, x, i) => sum + x * b[i]!, 0);
    const fetchEntries = (namespace: string) =>
      index.namespace(namespace).fetch(ids(), { includeMetadata: true, includeVectors: true });

    it("upserts one entry per locale into the organisation's namespace only", async () => {
      const item = published(1, { category_id: null, tags: ['sea', 'history'] });
      await deliverRecording([write(1, { snapshot: item }).body]);
      const [ar, en] = await fetchEntries(orgId);
      const metadata = {
        content_id: contentId,
        status: 'published',
        tags: ['sea', 'history'],
        published_at: Date.parse(time(1)) / 1_000,
        updated_at: Date.parse(time(1)) / 1_000,
        version: 1,
      };
      expect(en).toMatchObject({ id: `${contentId}:en`, metadata: { ...metadata, locale: 'en' } });
      expect(ar).toMatchObject({ id: `${contentId}:ar`, metadata: { ...metadata, locale: 'ar' } });
      expect(en?.metadata).not.toHaveProperty('category_id');
      // Both vectors are Sift's own: BM25F weights of its text analysis, and the embedding of
      // title, summary and body by the model (the local cloud's Workers AI).
      const { en: english } = item.translations;
      // Stored as 32-bit floats.
      const sparse = sparseDocumentVector(english!);
      expect(en?.sparseVector?.indices).toEqual(sparse.indices);
      en?.sparseVector?.values.forEach((value, i) => {
        expect(value).toBeCloseTo(sparse.values[i]!, 6);
      });
      const [embedded] = await testServices().embeddings.embed([denseText(english!)]);
      expect(en?.vector).toHaveLength(1024);
      expect(cosine(en!.vector!, Array.from(embedded!))).toBeCloseTo(1, 5);

      const hits = await vectorSearch(testServices(), {
        orgId,
        text: 'lighthouse keepers winter storms',
        side: 'sparse',
        topK: 3,
      });
      expect(hits.map((h) => `${h.contentId}:${h.locale}`)[0]).toBe(`${contentId}:en`);

      const other = await createOrg('fanout-other');
      expect(await fetchEntries(other)).toEqual([null, null]);
    });

    it('drops the entry of a locale the item no longer has', async () => {
      await deliverRecording([write(1, { snapshot: published(1) }).body]);
      const { en } = published(2).translations;
      await deliverRecording([
        write(2, { snapshot: published(2, { translations: { en: en! } }) }).body,
      ]);
      const [ar, current] = await fetchEntries(orgId);
      expect(ar).toBeNull();
      expect(current?.metadata).toMatchObject({ version: 2, locale: 'en' });
    });

    it('removes the item when it is deleted', async () => {
      await deliverRecording([write(1, { snapshot: published(1) }).body]);
      expect((await fetchEntries(orgId)).every((e) => e !== null)).toBe(true);
      const gone = published(2, { deleted_at: time(20) });
      await deliverRecording([write(2, { action: 'delete', snapshot: gone }).body]);
      expect(await fetchEntries(orgId)).toEqual([null, null]);
    });

    it('removes the item when it is unpublished', async () => {
      await deliverRecording([write(1, { snapshot: published(1) }).body]);
      expect((await fetchEntries(orgId)).every((e) => e !== null)).toBe(true);
      const unpublished = published(2, { status: 'approved' });
      await deliverRecording([write(2, { action: 'transition', snapshot: unpublished }).body]);
      expect(await fetchEntries(orgId)).toEqual([null, null]);
      const hits = await vectorSearch(testServices(), {
        orgId,
        text: 'lighthouse',
        side: 'sparse',
        topK: 5,
      });
      expect(hits.map((h) => h.contentId)).not.toContain(contentId);
    });

    it("bumps the organisation's index version once per batch that changed its index", async () => {
      const services = testServices();
      const before = await readIndexVersion(services, orgId);
      expect(before).toBe(0);
      await deliverRecording([
        write(1, { snapshot: published(1) }).body,
        write(2, { snapshot: published(2) }).body,
      ]);
      expect(await readIndexVersion(services, orgId)).toBe(1);
      await deliverRecording([write(3, { snapshot: published(3) }).body], 1);
      expect(await readIndexVersion(services, orgId)).toBe(2);
      // The index unreachable: nothing changed, nothing bumped.
      const logs = captureLogs();
      await deliver('sift-writes', [write(4, { snapshot: published(4) }).body], {
        overrides: {
          JOBS: recordingQueue<Envelope>('JOBS').queue,
          UPSTASH_VECTOR_REST_URL: DEAD_URL,
        },
      });
      logs.restore();
      expect(await readIndexVersion(services, orgId)).toBe(2);
      // A draft that was never in the index changes nothing there either.
      contentId = newId('content');
      await deliverRecording([write(1).body]);
      expect(await readIndexVersion(services, orgId)).toBe(2);
      // Unpublishing an indexed item does.
      await deliverRecording([write(2, { snapshot: published(2) }).body]);
      expect(await readIndexVersion(services, orgId)).toBe(3);
      await deliverRecording([write(3, { snapshot: published(3, { status: 'approved' }) }).body]);
      expect(await readIndexVersion(services, orgId)).toBe(4);
    });

    it('never indexes an item that is not published', async () => {
      await deliverRecording([write(1).body]);
      expect(await fetchEntries(orgId)).toEqual([null, null]);
    });

    /** A JOBS that keeps what is sent: a retry is delivered by hand, not a minute later. */
    const holdingJobs = () => recordingQueue<Envelope>('JOBS', { hold: true });

    it('retries from what Postgres holds: an item unpublished meanwhile leaves the index', async () => {
      await deliverRecording([write(1, { snapshot: published(1) }).body]);
      const { sent: held, queue } = holdingJobs();
      const logs = captureLogs();
      const unpublished = published(2, { status: 'approved' });
      await deliver(
        'sift-writes',
        [write(2, { action: 'transition', snapshot: unpublished }).body],
        {
          overrides: { JOBS: queue, UPSTASH_VECTOR_REST_URL: DEAD_URL },
        },
      );
      logs.restore();
      // The outage left the published entries behind.
      expect((await fetchEntries(orgId)).map((e) => e?.metadata?.version)).toEqual([1, 1]);
      resetBreakers();
      const retry = held.find((m) => m.type === 'search.index')!;
      // An id never persisted in the organisation is only cleared from its index.
      (retry.payload as { content_ids: string[] }).content_ids.push(newId('content'));
      const { result } = await deliver('sift-jobs', [retry]);
      expect(result.explicitAcks).toHaveLength(1);
      expect(await fetchEntries(orgId)).toEqual([null, null]);
    });

    it.each([
      ['the vector index', 'UPSTASH_VECTOR_REST_URL'],
      ['the embedding model', 'WORKERS_AI_API_URL'],
    ])(
      'persists and fans out the write while %s is down, and indexes it later',
      async (_, setting) => {
        const logs = captureLogs();
        const { sent: held, delays, queue: jobs } = holdingJobs();
        const { result } = await deliver(
          'sift-writes',
          [write(1, { snapshot: published(1) }).body],
          {
            overrides: { JOBS: jobs, [setting]: DEAD_URL },
          },
        );
        logs.restore();
        expect(result.explicitAcks).toHaveLength(1);
        expect(result.retryMessages).toEqual([]);
        expect(eventTypes(held)).toEqual(['content.created']);
        expect(await kv({ orgId, id: contentId })).toEqual(published(1));
        expect(
          logs.lines.find(
            (l) =>
              l.msg === 'search index not updated; retrying later' && l.content_id === contentId,
          ),
        ).toMatchObject({ level: 'warn', version: 1 });
        expect(await fetchEntries(orgId)).toEqual([null, null]);

        // A minute later, from what Postgres holds: while the outage lasts the queue retries it...
        const at = held.findIndex((m) => m.type === 'search.index');
        const retry = held[at];
        expect(retry).toMatchObject({ payload: { org_id: orgId, content_ids: [contentId] } });
        expect(delays[at]).toBe(60);
        const quiet = captureLogs();
        const again = await deliver('sift-jobs', [retry], {
          overrides: { [setting]: DEAD_URL },
        });
        quiet.restore();
        expect(again.result.retryMessages).toHaveLength(1);
        // ...and once it is over, the item is in the index.
        resetBreakers();
        const version = (await readIndexVersion(testServices(), orgId)) ?? 0;
        const done = await deliver('sift-jobs', [retry]);
        expect(done.result.explicitAcks).toHaveLength(1);
        expect((await fetchEntries(orgId)).map((e) => e?.metadata?.version)).toEqual([1, 1]);
        expect(await readIndexVersion(testServices(), orgId)).toBe(version + 1);
      },
    );
  });

  describe('messages without their snapshot', () => {
    it('reads the snapshot from the ledger, then from Postgres once the ledger forgot it', async () => {
      const item = published(1);
      const operationId = newId('operation');
      const ledger = ledgerOf(env, orgId);
      const { token, outcomes } = await ledger.reserve([
        { operation_id: operationId, action: 'create', base: 0, snapshot: item },
      ]);
      expect(outcomes).toEqual([{ ok: true }]);
      await ledger.settle(token!, [operationId]);
      expect(await ledger.pending(operationId)).toMatchObject({ version: 1, sent: true });

      const large = write(1, { operationId, snapshot: null });
      const dlq = recordingDlq('WRITES_DLQ');
      const jobs = recordingQueue<Envelope>('JOBS');
      const { result } = await deliver('sift-writes', [large.body], {
        overrides: { WRITES_DLQ: dlq.queue, JOBS: jobs.queue },
      });
      expect(result.explicitAcks).toHaveLength(1);
      expect(dlq.sent).toEqual([]);
      const [row] = await db
        .select()
        .from(contentVersions)
        .where(eq(contentVersions.contentId, contentId));
      expect(row).toMatchObject({ version: 1, operationId, snapshot: item });
      expect(eventTypes(jobs.sent)).toEqual(['content.created']);
      expect(await kv({ orgId, id: contentId })).toEqual(item);
      // Told once the batch committed, the ledger forgets the pending write.
      await eventually(async () => (await ledger.pending(operationId)) === null);

      const again = await deliverRecording([large.body], 2);
      expect(again.result.explicitAcks).toHaveLength(1);
      expect(again.result.retryMessages).toEqual([]);
      expect(eventTypes(again.sent)).toEqual(['content.created']);
    });

    it('dead-letters a message whose snapshot neither the ledger nor Postgres has', async () => {
      const lost = write(1, { snapshot: null });
      const dlq = recordingDlq<{ dead_letter: { reason: string } }>('WRITES_DLQ');
      const { result } = await deliver(
        'sift-writes',
        [lost.body, write(1, { operationId: newId('operation') }).body],
        {
          overrides: { WRITES_DLQ: dlq.queue },
        },
      );
      expect(result.explicitAcks).toHaveLength(2);
      expect(dlq.sent).toHaveLength(1);
      expect(dlq.sent[0]?.dead_letter.reason).toContain('has no snapshot');
    });
  });
});
