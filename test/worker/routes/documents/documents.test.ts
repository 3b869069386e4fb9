import { env } from 'cloudflare:workers';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { categories, documents } from '../../../../shared/db/schema/index.ts';
import { MAX_DOCUMENT_BYTES, textKey } from '../../../../shared/documents/storage.ts';
import { newId } from '../../../../shared/ids.ts';
import { bearer, createMember, createTenant, tokenFor } from '../../auth.ts';
import { call, eventually, expectProblem, testDb, untilQuiet } from '../../helpers.ts';
import { auditedEventually, insertKey, json } from '../keys/fixtures.ts';
import {
  concat,
  type DocumentBody,
  docx,
  exe,
  html,
  markdown,
  pdf,
  plainText,
  png,
  sha256,
  storedKeys,
  storedOriginals,
  upload,
  zip,
} from './fixtures.ts';

type Auth = Record<string, string>;
type Page = { items: DocumentBody[]; next_cursor: string | null };

const DOCX_TYPE = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

// Uploads are audited through the EVENTS queue: let its consumer finish before the file ends.
afterAll(() => untilQuiet(), 60_000);

async function created(response: Response): Promise<DocumentBody> {
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as DocumentBody;
}

async function list(auth: Auth, query = ''): Promise<Page> {
  const response = await call(`/v1/documents${query}`, { headers: auth });
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as Page;
}

/** A body of `total` bytes with no declared length, produced `chunk` bytes at a time. */
function stream(first: Uint8Array, total: number, chunk = 1024 * 1024): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) {
        controller.close();
        return;
      }
      const size = Math.min(chunk, total - sent);
      const bytes = new Uint8Array(size).fill(0x61);
      if (sent === 0) bytes.set(first.subarray(0, size));
      sent += size;
      controller.enqueue(bytes);
    },
  });
}

function streamedUpload(auth: Auth, body: ReadableStream<Uint8Array>, fileName: string) {
  return call(`/v1/documents?file_name=${encodeURIComponent(fileName)}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/octet-stream', ...auth },
    body,
  });
}

describe('POST /v1/documents', () => {
  let orgId: string;
  let auth: Auth;
  let editorId: string;

  beforeAll(async () => {
    const tenant = await createTenant('docs-upload');
    orgId = tenant.orgId;
    const editor = await createMember(orgId, 'editor');
    editorId = editor.userId;
    auth = bearer((await tokenFor(editor)).token);
  });

  it('stores each accepted type, typed by its bytes and not by its name', async () => {
    const cases: Array<[string, Uint8Array, string, Record<string, string>]> = [
      ['notes.txt', pdf(), 'application/pdf', {}],
      ['report.pdf', docx(), DOCX_TYPE, {}],
      ['page.txt', html(), 'text/html', {}],
      ['readme.md', markdown(), 'text/markdown', {}],
      ['notes', markdown(), 'text/markdown', { 'Content-Type': 'text/markdown; charset=utf-8' }],
      ['scan.pdf', plainText(), 'text/plain', { 'Content-Type': 'application/pdf' }],
    ];
    for (const [fileName, bytes, type, headers] of cases) {
      const response = await upload(auth, bytes, { file_name: fileName }, headers);
      const document = await created(response);
      expect(document, fileName).toMatchObject({
        file_name: fileName,
        title: fileName,
        content_type: type,
        size_bytes: bytes.length,
        sha256: await sha256(bytes),
        status: 'stored',
        failure_reason: null,
        visibility: 'organization',
        uploaded_by: editorId,
        version: 1,
      });
      expect(response.headers.get('Location')).toBe(`/v1/documents/${document.id}`);
      expect(response.headers.get('ETag')).toMatch(
        new RegExp(`^"${document.id}\\.v1\\.[0-9a-z]+"$`),
      );
      const object = await env.FILES.get(`${orgId}/documents/${document.id}/original`);
      expect(new Uint8Array(await object!.arrayBuffer())).toEqual(bytes);
    }
  });

  it('takes its metadata from the query string', async () => {
    const [category] = await testDb()
      .insert(categories)
      .values({ orgId, slug: `reports-${newId('category').slice(-6)}`, names: { en: 'Reports' } })
      .returning();
    const document = await created(
      await upload(auth, pdf(), {
        file_name: 'تقرير.pdf',
        title: '  التقرير الفصلي 📄  ',
        locale: 'AR-eg',
        category_id: category!.id,
        tags: 'Finance,q3,finance',
        visibility: 'private',
      }),
    );
    expect(document).toMatchObject({
      file_name: 'تقرير.pdf',
      title: 'التقرير الفصلي 📄',
      locale: 'ar-EG',
      category_id: category!.id,
      tags: ['finance', 'q3'],
      visibility: 'private',
    });
    const audited = await auditedEventually('document.create', document.id);
    expect(audited.data).toMatchObject({ sha256: document.sha256, visibility: 'private' });
  });

  it('streams a body of unknown length to storage in parts and keeps it byte for byte', async () => {
    const total = 9 * 1024 * 1024 + 123;
    const head = pdf();
    const expected = concat([head, new Uint8Array(total - head.length).fill(0x61)]);
    const document = await created(await streamedUpload(auth, stream(head, total), 'big.pdf'));
    expect(document).toMatchObject({
      size_bytes: total,
      content_type: 'application/pdf',
      sha256: await sha256(expected),
    });
    const download = await call(`/v1/documents/${document.id}/original`, { headers: auth });
    expect(download.status).toBe(200);
    expect(await sha256(new Uint8Array(await download.arrayBuffer()))).toBe(document.sha256);
  });

  it('is not held to the 1 MiB limit of other bodies', async () => {
    const head = pdf();
    const bytes = concat([head, new Uint8Array(3 * 1024 * 1024).fill(0x20)]);
    const document = await created(await upload(auth, bytes, { file_name: 'three-mib.pdf' }));
    expect(document.size_bytes).toBe(bytes.length);
  });

  it('lets one of two simultaneous uploads of the same bytes in, and reports the other', async () => {
    const bytes = html();
    const responses = await Promise.all([
      upload(auth, bytes, { file_name: 'one.html' }),
      upload(auth, bytes, { file_name: 'two.html' }),
    ]);
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 409]);
    const winner = (await responses.find((r) => r.status === 201)!.json()) as DocumentBody;
    const loser = (await responses.find((r) => r.status === 409)!.json()) as {
      document_id: string;
    };
    expect(loser.document_id).toBe(winner.id);
    const keys = await storedOriginals(orgId);
    const sameBytes = await testDb()
      .select({ id: documents.id })
      .from(documents)
      .where(eq(documents.sha256, winner.sha256));
    expect(sameBytes).toEqual([{ id: winner.id }]);
    expect(keys.filter((k) => k.includes(winner.id))).toHaveLength(1);
  });

  it('answers 415 naming the accepted types for other files, and keeps nothing', async () => {
    const before = await storedOriginals(orgId);
    const cases: Array<[string, Uint8Array, string]> = [
      ['image.pdf', png(), 'a PNG image'],
      ['archive.docx', zip({ 'a.txt': 'hello', 'xl/workbook.xml': '<x/>' }), 'a ZIP archive'],
      ['setup.txt', exe(), 'a Windows executable'],
      ['data.txt', concat([new Uint8Array([0x00, 0x01, 0x02]), plainText()]), 'binary data'],
    ];
    for (const [fileName, bytes, found] of cases) {
      const problem = await expectProblem(await upload(auth, bytes, { file_name: fileName }), 415);
      expect(problem.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      expect(problem.detail, fileName).toContain(found);
      expect(problem.detail).toContain('application/pdf');
      expect(problem.detail).toContain('text/markdown');
      expect(problem.accept).toEqual([
        'application/pdf',
        DOCX_TYPE,
        'text/html',
        'text/markdown',
        'text/plain',
      ]);
    }
    // Text that stops being UTF-8 after the first bytes is refused once the stream shows it.
    const parts = [plainText(), new Uint8Array(64 * 1024).fill(0x20), new Uint8Array([0xff, 0xfe])];
    const late = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = parts.shift();
        if (next) controller.enqueue(next);
        else controller.close();
      },
    });
    const problem = await expectProblem(await streamedUpload(auth, late, 'notes.txt'), 415);
    expect(problem.detail).toContain('not UTF-8 text');
    expect(await storedOriginals(orgId)).toEqual(before);
  });

  it('answers 422 to an empty file', async () => {
    const problem = await expectProblem(await upload(auth, new Uint8Array(0)), 422);
    expect(problem.detail).toContain('empty');
    const streamed = await streamedUpload(auth, stream(new Uint8Array(0), 0), 'empty.txt');
    await expectProblem(streamed, 422);
  });

  it('answers 413 naming the limit, from Content-Length or as the stream passes it, keeping nothing', async () => {
    const before = await storedOriginals(orgId);
    const declared = await call('/v1/documents?file_name=huge.pdf', {
      method: 'POST',
      headers: { ...auth, 'Content-Length': String(MAX_DOCUMENT_BYTES + 1) },
      body: stream(pdf(), MAX_DOCUMENT_BYTES + 1),
    });
    const first = await expectProblem(declared, 413);
    expect(first.detail).toContain('52,428,800 bytes');
    const streamed = await streamedUpload(auth, stream(pdf(), MAX_DOCUMENT_BYTES + 1), 'huge.pdf');
    const second = await expectProblem(streamed, 413);
    expect(second).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', limit: MAX_DOCUMENT_BYTES });
    expect(await storedOriginals(orgId)).toEqual(before);
  });

  it('accepts a file of exactly the limit', { timeout: 60_000 }, async () => {
    const document = await created(
      await streamedUpload(auth, stream(pdf(), MAX_DOCUMENT_BYTES), 'limit.pdf'),
    );
    expect(document.size_bytes).toBe(MAX_DOCUMENT_BYTES);
    await call(`/v1/documents/${document.id}`, { method: 'DELETE', headers: auth });
  });

  it('reports a re-upload of the same bytes as a 409 naming the document', async () => {
    const bytes = pdf();
    const first = await created(await upload(auth, bytes, { file_name: 'a.pdf' }));
    const before = await storedOriginals(orgId);
    const again = await upload(auth, bytes, { file_name: 'renamed.pdf' });
    const problem = await expectProblem(again, 409);
    expect(problem).toMatchObject({ reason: 'duplicate', document_id: first.id });
    expect(again.headers.get('Location')).toBe(`/v1/documents/${first.id}`);
    expect(await storedOriginals(orgId)).toEqual(before);
  });

  it("does not name another member's private duplicate", async () => {
    const bytes = markdown();
    await created(await upload(auth, bytes, { file_name: 'mine.md', visibility: 'private' }));
    const other = bearer((await tokenFor(await createMember(orgId, 'editor'))).token);
    const problem = await expectProblem(await upload(other, bytes, { file_name: 'x.md' }), 409);
    expect(problem).toMatchObject({ reason: 'duplicate', document_id: null });
  });

  it('answers 400 naming the field for bad metadata', async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ file_name: '' }, 'query.file_name'],
      [{ file_name: 'a/b.pdf' }, 'query.file_name'],
      [{ file_name: 'x'.repeat(256) }, 'query.file_name'],
      [{ title: 'x'.repeat(301) }, 'query.title'],
      [{ visibility: 'public' }, 'query.visibility'],
      [{ locale: 'not a locale' }, 'query.locale'],
      [{ category_id: 'cnt_01jd5x3k7yf0v9r2m4q6s8t1wz' }, 'query.category_id'],
      [{ tags: Array.from({ length: 51 }, (_, i) => `t${i}`).join(',') }, 'query.tags'],
      [{ title: 'a\u0000b' }, 'query.title'],
      [{ folder: 'x' }, 'query.folder'],
    ];
    for (const [query, path] of cases) {
      const problem = await expectProblem(await upload(auth, pdf(), query), 400);
      expect(
        problem.errors?.map((e) => e.path),
        JSON.stringify(query),
      ).toContain(path);
    }
    const missing = await call('/v1/documents', { method: 'POST', headers: auth, body: pdf() });
    const problem = await expectProblem(missing, 400);
    expect(problem.errors?.map((e) => e.path)).toContain('query.file_name');
  });

  it('answers 422 for a category the organisation does not have', async () => {
    const problem = await expectProblem(
      await upload(auth, pdf(), { category_id: newId('category') }),
      422,
    );
    expect(problem.errors?.[0]?.path).toBe('query.category_id');
  });

  it('needs documents:write', async () => {
    for (const role of ['author', 'viewer'] as const) {
      const member = await createMember(orgId, role);
      const problem = await expectProblem(
        await upload(bearer((await tokenFor(member)).token), pdf()),
        403,
      );
      expect(problem.permission).toBe('documents:write');
    }
    const reader = await insertKey(orgId, { scopes: ['documents:read'] });
    await expectProblem(await upload(bearer(reader.secret), pdf()), 403);
  });
});

describe('reading, listing and downloading documents', () => {
  let auth: Auth;
  let docs: DocumentBody[];

  beforeAll(async () => {
    const tenant = await createTenant('docs-read');
    auth = bearer((await tokenFor(tenant.owner)).token);
    docs = [];
    docs.push(
      await created(
        await upload(auth, pdf(), { file_name: 'alpha.pdf', tags: 'finance', locale: 'en' }),
      ),
    );
    docs.push(
      await created(
        await upload(auth, markdown(), {
          file_name: 'beta.md',
          tags: 'finance,legal',
          locale: 'ar',
        }),
      ),
    );
    docs.push(
      await created(
        await upload(auth, html(), {
          file_name: 'gamma_100%.html',
          title: 'Gamma 100% done',
          visibility: 'private',
        }),
      ),
    );
    // Their processing changes them: read them once it ended (the PDF has no text layer).
    docs = await Promise.all(
      docs.map((doc) =>
        eventually(async () => {
          const response = await call(`/v1/documents/${doc.id}`, { headers: auth });
          const body = (await response.json()) as DocumentBody;
          return ['ready', 'needs_ocr', 'failed'].includes(body.status) ? body : undefined;
        }, 20_000),
      ),
    );
  });

  it('gets one document with its ETag, and 304 for If-None-Match', async () => {
    const response = await call(`/v1/documents/${docs[0]!.id}`, { headers: auth });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(docs[0]);
    const etag = response.headers.get('ETag')!;
    const again = await call(`/v1/documents/${docs[0]!.id}`, {
      headers: { ...auth, 'If-None-Match': etag },
    });
    expect(again.status).toBe(304);
    await expectProblem(await call(`/v1/documents/${newId('document')}`, { headers: auth }), 404);
    const malformed = await expectProblem(
      await call('/v1/documents/cnt_01jd5x3k7yf0v9r2m4q6s8t1wz', { headers: auth }),
      400,
    );
    expect(malformed.errors?.[0]?.path).toBe('path.id');
  });

  it('lists newest first and pages with a cursor', async () => {
    const first = await list(auth, '?limit=2');
    expect(first.items.map((d) => d.id)).toEqual([docs[2]!.id, docs[1]!.id]);
    expect(first.next_cursor).not.toBeNull();
    const second = await list(auth, `?limit=2&cursor=${encodeURIComponent(first.next_cursor!)}`);
    expect(second.items.map((d) => d.id)).toEqual([docs[0]!.id]);
    expect(second.next_cursor).toBeNull();
    const bad = await expectProblem(
      await call('/v1/documents?cursor=nonsense', { headers: auth }),
      400,
    );
    expect(bad.errors?.[0]?.path).toBe('query.cursor');
  });

  it('filters by type, tag, locale, visibility, status and title text', async () => {
    const ids = async (query: string) => (await list(auth, query)).items.map((d) => d.id);
    expect(await ids('?type=application/pdf')).toEqual([docs[0]!.id]);
    expect(await ids('?type=text/markdown,text/html')).toEqual([docs[2]!.id, docs[1]!.id]);
    expect(await ids('?tags=legal')).toEqual([docs[1]!.id]);
    expect(await ids('?tags=FINANCE')).toEqual([docs[1]!.id, docs[0]!.id]);
    expect(await ids('?locale=ar')).toEqual([docs[1]!.id]);
    expect(await ids('?visibility=private')).toEqual([docs[2]!.id]);
    expect(await ids('?status=ready')).toEqual([docs[2]!.id, docs[1]!.id]);
    expect(await ids('?status=needs_ocr,failed')).toEqual([docs[0]!.id]);
    expect(await ids('?status=stored')).toEqual([]);
    expect(await ids('?q=ALPHA')).toEqual([docs[0]!.id]);
    // `%` and `_` are literal text, not wildcards.
    expect(await ids('?q=100%25')).toEqual([docs[2]!.id]);
    expect(await ids('?q=a_p')).toEqual([]);
    for (const [query, path] of [
      ['?type=image/png', 'query.type'],
      ['?status=done', 'query.status'],
      ['?limit=101', 'query.limit'],
      ['?sort=title', 'query.sort'],
    ] as const) {
      const problem = await expectProblem(
        await call(`/v1/documents${query}`, { headers: auth }),
        400,
      );
      expect(problem.errors?.[0]?.path.startsWith(path), query).toBe(true);
    }
  });

  it('downloads the original byte for byte with its type and an RFC 6266 file name', async () => {
    const bytes = pdf();
    const name = 'تقرير "Q3" (final).pdf';
    const document = await created(await upload(auth, bytes, { file_name: name }));
    const response = await call(`/v1/documents/${document.id}/original`, { headers: auth });
    expect(response.status).toBe(200);
    expect(response.headers.get('Content-Type')).toBe('application/pdf');
    expect(response.headers.get('Content-Length')).toBe(String(bytes.length));
    expect(response.headers.get('X-Content-Type-Options')).toBe('nosniff');
    const disposition = response.headers.get('Content-Disposition')!;
    expect(disposition).toBe(
      `attachment; filename="_____ _Q3_ (final).pdf"; filename*=UTF-8''${encodeURIComponent(name).replace(/[()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`,
    );
    const encoded = /filename\*=UTF-8''(.+)$/.exec(disposition)![1]!;
    expect(decodeURIComponent(encoded)).toBe(name);
    const digest = btoa(
      String.fromCharCode(...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))),
    );
    expect(response.headers.get('Repr-Digest')).toBe(`sha-256=:${digest}:`);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(bytes);
  });
});

describe('PATCH /v1/documents/{id}', () => {
  let orgId: string;
  let auth: Auth;
  let document: DocumentBody;

  beforeAll(async () => {
    const tenant = await createTenant('docs-patch');
    orgId = tenant.orgId;
    auth = bearer((await tokenFor(await createMember(orgId, 'editor'))).token);
    document = await created(await upload(auth, pdf(), { file_name: 'patch.pdf' }));
    // Its processing changes its ETag: let it end (no text layer) before the ETags are compared.
    await eventually(async () => {
      const response = await call(`/v1/documents/${document.id}`, { headers: auth });
      return ((await response.json()) as DocumentBody).status === 'needs_ocr';
    }, 20_000);
  });

  const patch = (body: unknown, headers: Auth = {}) =>
    call(`/v1/documents/${document.id}`, json('PATCH', body, { ...auth, ...headers }));

  it('changes the fields given, keeps the rest, and moves the version', async () => {
    const response = await patch({
      title: 'مراجعة المخاطر 🧾',
      tags: ['Risk', 'risk', 'Q3'],
      locale: 'EN-gb',
      visibility: 'private',
    });
    expect(response.status, await response.clone().text()).toBe(200);
    const body = (await response.json()) as DocumentBody;
    expect(body).toMatchObject({
      title: 'مراجعة المخاطر 🧾',
      tags: ['risk', 'q3'],
      locale: 'en-GB',
      visibility: 'private',
      file_name: 'patch.pdf',
      sha256: document.sha256,
      version: 2,
    });
    expect(response.headers.get('ETag')).toMatch(new RegExp(`^"${document.id}\\.v2\\.[0-9a-z]+"$`));
    const cleared = (await (await patch({ locale: null, tags: [] })).json()) as DocumentBody;
    expect(cleared).toMatchObject({ locale: null, tags: [], version: 3 });
    const audited = await auditedEventually('document.update', document.id);
    expect(audited.data).toMatchObject({ after: { title: 'مراجعة المخاطر 🧾' } });
  });

  it('makes no version for a change that changes nothing', async () => {
    const before = (await (
      await call(`/v1/documents/${document.id}`, { headers: auth })
    ).json()) as DocumentBody;
    const response = await patch({ title: before.title, tags: before.tags });
    expect(((await response.json()) as DocumentBody).version).toBe(before.version);
  });

  it('answers 412 when If-Match is stale', async () => {
    const current = await call(`/v1/documents/${document.id}`, { headers: auth });
    const etag = current.headers.get('ETag')!;
    const problem = await expectProblem(
      await patch({ title: 'x' }, { 'If-Match': '"stale"' }),
      412,
    );
    expect(problem.current_etag).toBe(etag);
    const ok = await patch({ title: 'Conditional' }, { 'If-Match': etag });
    expect(ok.status).toBe(200);
  });

  it('answers 400 naming the field for bad values', async () => {
    const cases: Array<[unknown, string]> = [
      [{ title: '' }, 'body.title'],
      [{ title: '   ' }, 'body.title'],
      [{ title: 'x'.repeat(100_000) }, 'body.title'],
      [{ title: 42 }, 'body.title'],
      [{ tags: Array.from({ length: 51 }, (_, i) => `t${i}`) }, 'body.tags'],
      [{ tags: ['x'.repeat(65)] }, 'body.tags.0'],
      [{ visibility: 'public' }, 'body.visibility'],
      [{ locale: 'english please' }, 'body.locale'],
      [{ category_id: 'doc_01jd5x3k7yf0v9r2m4q6s8t1wz' }, 'body.category_id'],
      [{ file_name: 'new.pdf' }, 'body.file_name'],
      [{ title: 'lone \ud800 surrogate' }, 'body.title'],
    ];
    for (const [body, path] of cases) {
      const problem = await expectProblem(await patch(body), 400);
      expect(
        problem.errors?.map((e) => e.path),
        JSON.stringify(body).slice(0, 80),
      ).toContain(path);
    }
    const unknown = await expectProblem(await patch({ category_id: newId('category') }), 422);
    expect(unknown.errors?.[0]?.path).toBe('body.category_id');
  });
});

describe('DELETE /v1/documents/{id}', () => {
  it('removes every file under its prefix and its row; the bytes may come again', async () => {
    const { orgId, owner } = await createTenant('docs-delete');
    const auth = bearer((await tokenFor(owner)).token);
    const bytes = docx();
    const document = await created(await upload(auth, bytes, { file_name: 'gone.docx' }));
    // Processed: the extracted text is stored beside the original.
    await eventually(async () => (await env.FILES.head(textKey(orgId, document.id))) !== null);
    const response = await call(`/v1/documents/${document.id}`, {
      method: 'DELETE',
      headers: auth,
    });
    expect(response.status).toBe(204);
    expect(await storedKeys(orgId)).toEqual([]);
    expect(await testDb().select().from(documents).where(eq(documents.id, document.id))).toEqual(
      [],
    );
    await expectProblem(await call(`/v1/documents/${document.id}`, { headers: auth }), 404);
    await expectProblem(
      await call(`/v1/documents/${document.id}`, { method: 'DELETE', headers: auth }),
      404,
    );
    await created(await upload(auth, bytes, { file_name: 'back.docx' }));
    const audited = await auditedEventually('document.delete', document.id);
    expect(audited.data).toMatchObject({ file_name: 'gone.docx' });
  });
});

describe('visibility', () => {
  let orgId: string;
  let uploader: Auth;
  let colleague: Auth;
  let admin: Auth;
  let privateDoc: DocumentBody;
  let sharedDoc: DocumentBody;

  beforeAll(async () => {
    const tenant = await createTenant('docs-visibility');
    orgId = tenant.orgId;
    uploader = bearer((await tokenFor(await createMember(orgId, 'editor'))).token);
    colleague = bearer((await tokenFor(await createMember(orgId, 'editor'))).token);
    admin = bearer((await tokenFor(await createMember(orgId, 'admin'))).token);
    privateDoc = await created(
      await upload(uploader, pdf(), { file_name: 'secret.pdf', visibility: 'private' }),
    );
    sharedDoc = await created(await upload(uploader, pdf(), { file_name: 'shared.pdf' }));
  });

  it('hides a private document from other members on every route', async () => {
    const ids = (await list(colleague)).items.map((d) => d.id);
    expect(ids).toEqual([sharedDoc.id]);
    expect((await list(colleague, '?visibility=private')).items).toEqual([]);
    const base = `/v1/documents/${privateDoc.id}`;
    await expectProblem(await call(base, { headers: colleague }), 404);
    await expectProblem(await call(`${base}/original`, { headers: colleague }), 404);
    await expectProblem(await call(base, json('PATCH', { title: 'mine now' }, colleague)), 404);
    await expectProblem(await call(base, { method: 'DELETE', headers: colleague }), 404);
    const viewer = bearer((await tokenFor(await createMember(orgId, 'viewer'))).token);
    await expectProblem(await call(base, { headers: viewer }), 404);
  });

  it('shows it to its uploader, admins, owners and super admins', async () => {
    const owner = bearer((await tokenFor(await createMember(orgId, 'owner'))).token);
    const root = bearer(
      (await tokenFor(await createMember(orgId, 'viewer', { superAdmin: true }))).token,
    );
    for (const who of [uploader, admin, owner, root]) {
      expect((await list(who)).items.map((d) => d.id)).toEqual([sharedDoc.id, privateDoc.id]);
      const response = await call(`/v1/documents/${privateDoc.id}/original`, { headers: who });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
    }
  });

  it('lets an API key see organisation documents and the private ones it uploaded', async () => {
    const key = await insertKey(orgId, { scopes: ['documents:read', 'documents:write'] });
    const keyAuth = bearer(key.secret);
    expect((await list(keyAuth)).items.map((d) => d.id)).toEqual([sharedDoc.id]);
    await expectProblem(await call(`/v1/documents/${privateDoc.id}`, { headers: keyAuth }), 404);
    const own = await created(
      await upload(keyAuth, pdf(), { file_name: 'key.pdf', visibility: 'private' }),
    );
    expect(own.uploaded_by).toBe(key.id);
    expect((await list(keyAuth)).items.map((d) => d.id)).toEqual([own.id, sharedDoc.id]);
    expect((await list(colleague)).items.map((d) => d.id)).toEqual([sharedDoc.id]);
  });

  it('hides a document made private from then on', async () => {
    const response = await call(
      `/v1/documents/${sharedDoc.id}`,
      json('PATCH', { visibility: 'private' }, uploader),
    );
    expect(response.status).toBe(200);
    await expectProblem(await call(`/v1/documents/${sharedDoc.id}`, { headers: colleague }), 404);
    await call(
      `/v1/documents/${sharedDoc.id}`,
      json('PATCH', { visibility: 'organization' }, admin),
    );
    expect((await call(`/v1/documents/${sharedDoc.id}`, { headers: colleague })).status).toBe(200);
  });
});
