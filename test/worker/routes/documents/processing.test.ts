import { env } from 'cloudflare:workers';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deadLetters,
  documentChunks,
  documents,
  operations,
} from '../../../../shared/db/schema/index.ts';
import { processingOperation } from '../../../../shared/documents/process.ts';
import { textKey } from '../../../../shared/documents/storage.ts';
import type { DocumentType } from '../../../../shared/documents/types.ts';
import { documentsGeneration, documentsNamespace } from '../../../../shared/documents/vectors.ts';
import type { envelope } from '../../../../shared/messages.ts';
import { activeChannelKey } from '../../../../shared/realtime/publish.ts';
import { resetBreakers } from '../../../../shared/resilience/circuit-breaker.ts';
import {
  ENGLISH,
  encryptedPdf,
  fixtureOf,
  pdfFixture,
  scannedPdfFixture,
} from '../../../helpers/document-fixtures.ts';
import { bearer, createMember, createTenant, tokenFor } from '../../auth.ts';
import { deliver, recordingQueue } from '../../consumers/deliver.ts';
import {
  call,
  DEAD_URL,
  eventually,
  expectProblem,
  testDb,
  testServices,
  untilQuiet,
} from '../../helpers.ts';
import { auditedEventually } from '../keys/fixtures.ts';
import { type DocumentBody, upload } from './fixtures.ts';

type Auth = Record<string, string>;
type Processed = DocumentBody & {
  operation_id: string | null;
  language: string | null;
  page_count: number | null;
  chunk_count: number | null;
  processed_at: string | null;
  enrichment: { summaries: unknown; engine: string; model: string } | null;
  text_url: string;
};

const db = testDb();
const FINAL = ['ready', 'failed', 'needs_ocr'];

// Processing runs on the JOBS queue and audits on EVENTS: let the consumers finish.
afterAll(() => untilQuiet(), 60_000);

/** A copy of the English article whose text is unique (the same bytes are refused twice). */
const article = (marker = crypto.randomUUID()) => ({
  ...ENGLISH,
  title: `${ENGLISH.title} ${marker}`,
});

async function uploaded(auth: Auth, bytes: Uint8Array, fileName: string): Promise<Processed> {
  const response = await upload(auth, bytes, { file_name: fileName });
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as Processed;
}

async function read(auth: Auth, id: string): Promise<Processed> {
  const response = await call(`/v1/documents/${id}`, { headers: auth });
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as Processed;
}

/** The document once its processing ended (`ready`, `failed` or `needs_ocr`). */
const settled = (auth: Auth, id: string, timeoutMs = 20_000) =>
  eventually(async () => {
    const document = await read(auth, id);
    return FINAL.includes(document.status) ? document : undefined;
  }, timeoutMs);

const operationRow = async (id: string) =>
  (await db.select().from(operations).where(eq(operations.id, id)))[0];

const chunkRows = (orgId: string, id: string) =>
  db
    .select()
    .from(documentChunks)
    .where(and(eq(documentChunks.orgId, orgId), eq(documentChunks.documentId, id)))
    .orderBy(documentChunks.chunkIndex);

/** The document's records in its organisation's documents namespace of the index. */
async function vectorsOf(orgId: string, id: string) {
  const namespace = testServices().vector.namespace(documentsNamespace(orgId));
  const page = await namespace.range<Record<string, unknown>>({
    cursor: 0,
    limit: 1000,
    prefix: `${id}:`,
    includeMetadata: true,
  });
  return page.vectors;
}

describe('document processing', () => {
  let orgId: string;
  let auth: Auth;

  beforeAll(async () => {
    const tenant = await createTenant('docs-pipeline');
    orgId = tenant.orgId;
    auth = bearer((await tokenFor(tenant.owner)).token);
  });

  it.each(['txt', 'md', 'html', 'pdf', 'docx'] as DocumentType[])(
    'takes a %s upload to ready: text, chunks, vectors, enrichment, operation',
    async (type) => {
      const generation = await documentsGeneration(testServices(), orgId);
      const document = await uploaded(
        auth,
        await fixtureOf(type, article()),
        `field-notes.${type}`,
      );
      expect(document.status).toBe('stored');
      expect(document.operation_id).toMatch(/^op_/);
      expect(document.enrichment).toBeNull();

      const ready = await settled(auth, document.id);
      expect(ready, ready.failure_reason ?? '').toMatchObject({
        status: 'ready',
        failure_reason: null,
        language: 'en',
        page_count: type === 'pdf' ? 3 : null,
        operation_id: document.operation_id,
      });
      expect(ready.processed_at).not.toBeNull();
      expect(ready.enrichment?.summaries).toBeTruthy();

      // The text beside the original, as the text route serves it.
      const stored = await env.FILES.get(textKey(orgId, document.id));
      const text = await stored!.text();
      expect(text).toContain('Nitrate levels near the river mouth');
      const served = await call(ready.text_url, { headers: auth });
      expect(served.status).toBe(200);
      expect(served.headers.get('content-type')).toMatch(/^text\/plain; charset=utf-8$/i);
      expect(await served.text()).toBe(text);

      // Chunks: rows that are spans of that text, and one record each in the namespace.
      const rows = await chunkRows(orgId, document.id);
      expect(rows.length).toBeGreaterThan(0);
      expect(ready.chunk_count).toBe(rows.length);
      for (const row of rows) expect(text.slice(row.charStart, row.charEnd)).toBe(row.text);
      const vectors = await vectorsOf(orgId, document.id);
      expect(vectors.map((v) => v.id).sort()).toEqual(
        rows.map((r) => `${document.id}:${r.chunkIndex}`).sort(),
      );
      expect(vectors[0]?.metadata).toMatchObject({
        document_id: document.id,
        language: 'en',
        visibility: 'organization',
      });

      // The operation ended applied, having reported its stages.
      const operation = await operationRow(document.operation_id!);
      expect(operation).toMatchObject({
        kind: 'document.process',
        status: 'applied',
        resourceType: 'document',
        resourceId: document.id,
        error: null,
        progress: { stage: 'ready', done: rows.length, total: rows.length },
      });
      expect(await documentsGeneration(testServices(), orgId)).toBeGreaterThan(generation);
    },
  );

  it('ends a file that cannot be read failed, with the reason on the document and its operation', async () => {
    const corrupt = new TextEncoder().encode(`%PDF-1.7\n${crypto.randomUUID()}\nnot a pdf at all`);
    const document = await uploaded(auth, corrupt, 'broken.pdf');
    const failed = await settled(auth, document.id);
    expect(failed.status).toBe('failed');
    expect(failed.failure_reason).toMatch(/^corrupt: /);
    expect(failed.chunk_count).toBe(0);
    expect(await chunkRows(orgId, document.id)).toEqual([]);
    const operation = await operationRow(document.operation_id!);
    expect(operation?.status).toBe('failed');
    expect(operation?.error).toMatchObject({
      code: 'UNPROCESSABLE',
      reason: 'corrupt',
      document_status: 'failed',
    });
    const text = await call(`/v1/documents/${document.id}/text`, { headers: auth });
    expect((await expectProblem(text, 409)).status).toBe(409);
  });

  it('ends an encrypted PDF failed as encrypted', async () => {
    const bytes = encryptedPdf(await pdfFixture(article()));
    const document = await uploaded(auth, bytes, 'locked.pdf');
    const failed = await settled(auth, document.id);
    expect(failed.status).toBe('failed');
    expect(failed.failure_reason).toMatch(/^encrypted: /);
    expect((await operationRow(document.operation_id!))?.error).toMatchObject({
      reason: 'encrypted',
    });
  });

  it('ends a scanned PDF without a text layer needs_ocr, with no failure reason', async () => {
    // The scanned fixture is the same bytes each time: a comment line makes it this test's own.
    const scanned = await scannedPdfFixture();
    const bytes = new Uint8Array([
      ...scanned,
      ...new TextEncoder().encode(`%${crypto.randomUUID()}\n`),
    ]);
    const document = await uploaded(auth, bytes, 'scan.pdf');
    const result = await settled(auth, document.id);
    expect(result).toMatchObject({ status: 'needs_ocr', failure_reason: null, chunk_count: 0 });
    expect((await operationRow(document.operation_id!))?.error).toMatchObject({
      reason: 'no_text_layer',
      document_status: 'needs_ocr',
    });
  });
});

describe('document processing: the queue and its failures', () => {
  let orgId: string;
  let auth: Auth;

  beforeAll(async () => {
    const tenant = await createTenant('docs-pipeline-queue');
    orgId = tenant.orgId;
    auth = bearer((await tokenFor(tenant.owner)).token);
  });

  /** An upload whose processing message is kept back, for the test to deliver by hand. */
  async function heldUpload(bytes: Uint8Array, fileName = 'held.md') {
    const jobs = recordingQueue('JOBS', { hold: true });
    const response = await call(
      `/v1/documents?file_name=${fileName}`,
      {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/octet-stream' },
        body: bytes,
      },
      { JOBS: jobs.queue },
    );
    expect(response.status, await response.clone().text()).toBe(201);
    expect(jobs.sent).toHaveLength(1);
    return {
      document: (await response.json()) as Processed,
      message: jobs.sent[0] as ReturnType<typeof envelope>,
    };
  }

  const markdown = () => fixtureOf('md', article());

  it('answers 503 with Retry-After when the queue refuses, keeping no document and no queued operation', async () => {
    const jobs = recordingQueue('JOBS', { refuse: true });
    const bytes = await markdown();
    const response = await call(
      '/v1/documents?file_name=refused.md',
      {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/octet-stream' },
        body: bytes,
      },
      { JOBS: jobs.queue },
    );
    await expectProblem(response, 503);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await db.select().from(documents).where(eq(documents.orgId, orgId))).toEqual([]);
    expect((await env.FILES.list({ prefix: `${orgId}/documents/` })).objects).toEqual([]);
    const kept = await db.select().from(operations).where(eq(operations.orgId, orgId));
    expect(kept.map((o) => o.status)).toEqual(['failed']);
  });

  it('serves no text before extraction: 409 naming the status', async () => {
    const { document } = await heldUpload(await markdown());
    const problem = await expectProblem(
      await call(`/v1/documents/${document.id}/text`, { headers: auth }),
      409,
    );
    expect(problem.status).toBe(409);
    expect((problem as { status: number } & Record<string, unknown>).code).toBe('CONFLICT');
  });

  it('retries while the vector index is down, and fails the operation and document once dead-lettered', async () => {
    const { document, message } = await heldUpload(await markdown());
    const down = await deliver('sift-jobs', [message], {
      overrides: { UPSTASH_VECTOR_REST_URL: DEAD_URL },
    });
    resetBreakers();
    expect(down.result.retryMessages).toHaveLength(1);
    expect(down.result.explicitAcks).toEqual([]);
    const during = await read(auth, document.id);
    expect(during.status).toBe('embedding');
    expect((await operationRow(document.operation_id!))?.progress).toMatchObject({
      stage: 'embedding',
    });

    // Its retries ran out: the platform moves it to the dead-letter queue as it was.
    const exhausted = await deliver('sift-jobs-dlq', [message], { attempts: 7 });
    expect(exhausted.result.explicitAcks).toHaveLength(1);
    const [letter] = await db
      .select()
      .from(deadLetters)
      .where(eq(deadLetters.messageId, exhausted.batch.messages[0]!.id));
    expect(letter?.reason).toBe('retries exhausted after 7 attempts');
    const operation = await operationRow(document.operation_id!);
    expect(operation?.status).toBe('failed');
    expect(operation?.error).toMatchObject({ dead_letter_id: letter!.id });
    const failed = await read(auth, document.id);
    expect(failed.status).toBe('failed');
    expect(failed.failure_reason).toContain('processing_stopped: retries exhausted');
    expect(await chunkRows(orgId, document.id)).toEqual([]);
  });

  it('acknowledges a redelivery of a finished processing without doing it again', async () => {
    const { document, message } = await heldUpload(await markdown());
    const first = await deliver('sift-jobs', [message]);
    expect(first.result.explicitAcks).toHaveLength(1);
    const ready = await read(auth, document.id);
    expect(ready.status).toBe('ready');
    const operation = await operationRow(document.operation_id!);
    const again = await deliver('sift-jobs', [message], { attempts: 2 });
    expect(again.result.explicitAcks).toHaveLength(1);
    expect(await read(auth, document.id)).toEqual(ready);
    expect((await operationRow(document.operation_id!))?.completedAt).toEqual(
      operation?.completedAt,
    );
  });

  it("publishes each stage and the end on the operation's channel", async () => {
    const { document, message } = await heldUpload(await markdown());
    const channel = `operation:${document.operation_id}`;
    // A ticket was asked for the channel: it is listened to.
    await testServices().redis.set(activeChannelKey(channel), 1, { ex: 60 });
    await deliver('sift-jobs', [message]);
    const hub = env.REALTIME.get(env.REALTIME.idFromName(channel));
    // extracting, chunking, embedding, enriching, then operation.completed.
    expect((await hub.presence()).offset).toBe(5);
  });

  it('does not enrich again when a processing finds the same text, unless asked to reprocess', async () => {
    const { document, message } = await heldUpload(await markdown());
    await deliver('sift-jobs', [message]);
    const [row] = await db.select().from(documents).where(eq(documents.id, document.id));
    expect(row?.status).toBe('ready');
    const marked = { ...row!.enrichment!, model: 'kept-when-text-unchanged' };
    await db.update(documents).set({ enrichment: marked }).where(eq(documents.id, document.id));
    // A processing that is not a reprocess (the kind an upload queues), run again.
    const again = processingOperation(orgId, document.id, { createdBy: null, requestId: null });
    await db.insert(operations).values(again);
    await db.update(documents).set({ operationId: again.id }).where(eq(documents.id, document.id));
    const payload = message.payload as Record<string, unknown>;
    const body = { ...message, payload: { ...payload, operation_id: again.id } };
    await deliver('sift-jobs', [body]);
    const after = await read(auth, document.id);
    expect(after.status).toBe('ready');
    expect(after.enrichment?.model).toBe('kept-when-text-unchanged');
    expect((await operationRow(again.id))?.status).toBe('applied');
  });

  it('drops a message for a document deleted meanwhile, failing its operation', async () => {
    const { document, message } = await heldUpload(await markdown());
    const deleted = await call(`/v1/documents/${document.id}`, { method: 'DELETE', headers: auth });
    expect(deleted.status).toBe(204);
    const { result } = await deliver('sift-jobs', [message]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toEqual([]);
    const operation = await operationRow(document.operation_id!);
    expect(operation?.status).toBe('failed');
    expect(operation?.error).toMatchObject({ reason: 'superseded' });
    expect(
      (await env.FILES.list({ prefix: `${orgId}/documents/${document.id}/` })).objects,
    ).toEqual([]);
  });
});

describe('POST /v1/documents/{id}/reprocess', () => {
  let orgId: string;
  let auth: Auth;
  let document: Processed;

  beforeAll(async () => {
    const tenant = await createTenant('docs-reprocess');
    orgId = tenant.orgId;
    auth = bearer((await tokenFor(tenant.owner)).token);
    document = await uploaded(auth, await fixtureOf('md', article()), 'again.md');
    expect((await settled(auth, document.id)).status).toBe('ready');
  });

  const reprocess = (overrides: Partial<Env> = {}) =>
    call(`/v1/documents/${document.id}/reprocess`, { method: 'POST', headers: auth }, overrides);

  it('runs every stage again, enrichment included, as a new operation', async () => {
    // A mark on the stored enrichment: only a new enrichment takes it away.
    const [row] = await db.select().from(documents).where(eq(documents.id, document.id));
    await db
      .update(documents)
      .set({ enrichment: { ...row!.enrichment!, model: 'marked-before-reprocess' } })
      .where(eq(documents.id, document.id));
    const response = await reprocess();
    expect(response.status, await response.clone().text()).toBe(202);
    const body = (await response.json()) as {
      document_id: string;
      operation: { id: string; status: string; url: string };
    };
    expect(body).toMatchObject({ document_id: document.id, operation: { status: 'queued' } });
    expect(response.headers.get('Location')).toBe(`/v1/operations/${body.operation.id}`);
    expect(body.operation.id).not.toBe(document.operation_id);
    const done = await eventually(async () => {
      const operation = await operationRow(body.operation.id);
      return operation?.status === 'applied' ? operation : undefined;
    }, 20_000);
    expect(done.progress).toMatchObject({ stage: 'ready' });
    const polled = await call(body.operation.url, { headers: auth });
    expect(polled.status).toBe(200);
    expect(await polled.json()).toMatchObject({
      id: body.operation.id,
      kind: 'document.process',
      status: 'applied',
      progress: { stage: 'ready' },
    });
    const after = await read(auth, document.id);
    expect(after).toMatchObject({ status: 'ready', operation_id: body.operation.id });
    expect(after.enrichment?.model).not.toBe('marked-before-reprocess');
    const audited = await auditedEventually('document.reprocess', document.id);
    expect(audited.data).toMatchObject({ operation_id: body.operation.id });
  });

  it('answers 409 naming the operation while a processing is queued', async () => {
    const held = recordingQueue('JOBS', { hold: true });
    const first = await reprocess({ JOBS: held.queue });
    expect(first.status).toBe(202);
    const { operation } = (await first.json()) as { operation: { id: string } };
    const second = await expectProblem(await reprocess(), 409);
    expect((second as Record<string, unknown>).operation_id).toBe(operation.id);
    // Let the held processing run, so the next test starts from a settled document.
    await deliver('sift-jobs', held.sent);
    expect((await operationRow(operation.id))?.status).toBe('applied');
  });

  it('replaces a processing stalled for 15 minutes, failing it', async () => {
    const held = recordingQueue('JOBS', { hold: true });
    const first = await reprocess({ JOBS: held.queue });
    expect(first.status).toBe(202);
    const { operation: stalled } = (await first.json()) as { operation: { id: string } };
    await db
      .update(operations)
      .set({ status: 'running', updatedAt: new Date(Date.now() - 16 * 60_000) })
      .where(eq(operations.id, stalled.id));
    const second = await reprocess();
    expect(second.status, await second.clone().text()).toBe(202);
    const { operation } = (await second.json()) as { operation: { id: string } };
    expect((await operationRow(stalled.id))?.error).toMatchObject({
      reason: 'stalled',
      replaced_by: operation.id,
    });
    await eventually(async () => (await operationRow(operation.id))?.status === 'applied', 20_000);
    // The stalled one's message, delivered late, finds it replaced and does nothing.
    const late = await deliver('sift-jobs', held.sent);
    expect(late.result.explicitAcks).toHaveLength(1);
    expect((await read(auth, document.id)).operation_id).toBe(operation.id);
  });

  it('answers 503 when the queue refuses, and changes nothing', async () => {
    const before = await read(auth, document.id);
    const refused = await reprocess({ JOBS: recordingQueue('JOBS', { refuse: true }).queue });
    await expectProblem(refused, 503);
    const after = await read(auth, document.id);
    expect(after.operation_id).toBe(before.operation_id);
    expect(after.status).toBe('ready');
    const failed = await db
      .select()
      .from(operations)
      .where(and(eq(operations.orgId, orgId), eq(operations.status, 'queued')));
    expect(failed).toEqual([]);
  });

  it('hides the route from a member who cannot see a private document', async () => {
    const viewer = await createMember(orgId, 'editor');
    await db.update(documents).set({ visibility: 'private' }).where(eq(documents.id, document.id));
    const viewerAuth = bearer((await tokenFor(viewer)).token);
    for (const path of ['reprocess', 'text']) {
      const response = await call(`/v1/documents/${document.id}/${path}`, {
        method: path === 'reprocess' ? 'POST' : 'GET',
        headers: viewerAuth,
      });
      await expectProblem(response, 404);
    }
    await db
      .update(documents)
      .set({ visibility: 'organization' })
      .where(eq(documents.id, document.id));
  });
});

describe('changing and deleting a processed document', () => {
  let orgId: string;
  let auth: Auth;

  beforeAll(async () => {
    const tenant = await createTenant('docs-pipeline-change');
    orgId = tenant.orgId;
    auth = bearer((await tokenFor(tenant.owner)).token);
  });

  it("carries a new visibility and tags to the chunks' metadata in the index", async () => {
    const document = await uploaded(auth, await fixtureOf('md', article()), 'tagged.md');
    expect((await settled(auth, document.id)).status).toBe('ready');
    const generation = await documentsGeneration(testServices(), orgId);
    const response = await call(`/v1/documents/${document.id}`, {
      method: 'PATCH',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ visibility: 'private', tags: ['water'] }),
    });
    expect(response.status).toBe(200);
    const vectors = await vectorsOf(orgId, document.id);
    expect(vectors.length).toBeGreaterThan(0);
    for (const vector of vectors) {
      expect(vector.metadata).toMatchObject({ visibility: 'private', tags: ['water'] });
    }
    expect(await documentsGeneration(testServices(), orgId)).toBeGreaterThan(generation);
  });

  it('gives the document a new ETag as processing changes it, and If-Match still holds', async () => {
    const response = await upload(auth, await fixtureOf('md', article()), {
      file_name: 'etag.md',
    });
    expect(response.status).toBe(201);
    const document = (await response.json()) as Processed;
    const uploadedTag = response.headers.get('ETag')!;
    expect((await settled(auth, document.id)).status).toBe('ready');
    const revalidated = await call(`/v1/documents/${document.id}`, {
      headers: { ...auth, 'If-None-Match': uploadedTag },
    });
    expect(revalidated.status).toBe(200);
    expect(revalidated.headers.get('ETag')).not.toBe(uploadedTag);
    // The metadata did not change: a PATCH conditional on the upload's tag goes through.
    const changed = await call(`/v1/documents/${document.id}`, {
      method: 'PATCH',
      headers: { ...auth, 'Content-Type': 'application/json', 'If-Match': uploadedTag },
      body: JSON.stringify({ title: 'Renamed after processing' }),
    });
    expect(changed.status, await changed.clone().text()).toBe(200);
    const stale = await call(`/v1/documents/${document.id}`, {
      method: 'PATCH',
      headers: { ...auth, 'Content-Type': 'application/json', 'If-Match': uploadedTag },
      body: JSON.stringify({ title: 'Renamed again' }),
    });
    await expectProblem(stale, 412);
  });

  it('removes its text, chunk rows and vectors when deleted', async () => {
    const document = await uploaded(auth, await fixtureOf('html', article()), 'gone.html');
    expect((await settled(auth, document.id)).status).toBe('ready');
    expect(await env.FILES.head(textKey(orgId, document.id))).not.toBeNull();
    expect((await vectorsOf(orgId, document.id)).length).toBeGreaterThan(0);
    const generation = await documentsGeneration(testServices(), orgId);
    const response = await call(`/v1/documents/${document.id}`, {
      method: 'DELETE',
      headers: auth,
    });
    expect(response.status).toBe(204);
    expect(await env.FILES.head(textKey(orgId, document.id))).toBeNull();
    expect(await chunkRows(orgId, document.id)).toEqual([]);
    expect(await vectorsOf(orgId, document.id)).toEqual([]);
    expect(await documentsGeneration(testServices(), orgId)).toBeGreaterThan(generation);
  });

  it('deletes the document even with the index down, and removes its vectors later', async () => {
    const document = await uploaded(auth, await fixtureOf('txt', article()), 'later.txt');
    expect((await settled(auth, document.id)).status).toBe('ready');
    const jobs = recordingQueue('JOBS', { hold: true });
    const response = await call(
      `/v1/documents/${document.id}`,
      { method: 'DELETE', headers: auth },
      { UPSTASH_VECTOR_REST_URL: DEAD_URL, JOBS: jobs.queue },
    );
    resetBreakers();
    expect(response.status).toBe(204);
    await expectProblem(await call(`/v1/documents/${document.id}`, { headers: auth }), 404);
    expect(await chunkRows(orgId, document.id)).toEqual([]);
    expect((await vectorsOf(orgId, document.id)).length).toBeGreaterThan(0);
    expect(jobs.sent).toMatchObject([
      { type: 'document.vectors.remove', payload: { org_id: orgId, document_id: document.id } },
    ]);
    const { result } = await deliver('sift-jobs', jobs.sent);
    expect(result.explicitAcks).toHaveLength(1);
    expect(await vectorsOf(orgId, document.id)).toEqual([]);
  });
});
