import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_AI_MODEL } from '../../../../shared/ai/models.ts';
import type { AskResult } from '../../../../shared/ask/ask.ts';
import { categories, documents } from '../../../../shared/db/schema/index.ts';
import { newId } from '../../../../shared/ids.ts';
import { resetBreakers } from '../../../../shared/resilience/circuit-breaker.ts';
import { bearer, createMember, createTenant, type Member, tokenFor } from '../../auth.ts';
import { call, DEAD_DATABASE_URL, expectProblem, testDb, untilQuiet } from '../../helpers.ts';
import { readyDocument } from '../../support/ready-documents.ts';

type Auth = Record<string, string>;

afterAll(() => untilQuiet(), 60_000);

const WARRANTY =
  'The solar panels carry a warranty of twenty-five years from the date of installation. ' +
  'Inverters are covered for ten years.';
const MAINTENANCE =
  'Maintenance visits take place every six months. The technician cleans the panels and ' +
  'checks the wiring.';
const ARABIC_WARRANTY =
  'ضمان الألواح الشمسية خمسة وعشرون عاما من تاريخ التركيب. المحولات مضمونة لمدة عشر سنوات.';
const BUDGET =
  'The quarterly budget review found that travel costs exceeded the plan by twelve percent.';

let orgId: string;
let categoryId: string;
let otherCategoryId: string;
let solar: { id: string; chunks: { text: string; charStart: number; charEnd: number }[] };
let arabic: { id: string };
let budget: { id: string };
let uploader: Member;

async function authFor(role: Member['role'] = 'viewer'): Promise<{ member: Member; auth: Auth }> {
  const member = await createMember(orgId, role);
  return { member, auth: { ...bearer((await tokenFor(member)).token) } };
}

async function ask(auth: Auth, body: unknown, headers: Auth = {}): Promise<Response> {
  return call('/v1/ask', {
    method: 'POST',
    headers: { ...auth, 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

async function answered(auth: Auth, body: unknown): Promise<AskResult> {
  const response = await ask(auth, body);
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as AskResult;
}

beforeAll(async () => {
  ({ orgId } = await createTenant('ask'));
  const db = testDb();
  [categoryId, otherCategoryId] = (
    await db
      .insert(categories)
      .values([
        { orgId, slug: `energy-${newId('category').slice(-6)}`, names: { en: 'Energy' } },
        { orgId, slug: `finance-${newId('category').slice(-6)}`, names: { en: 'Finance' } },
      ])
      .returning({ id: categories.id })
  ).map((r) => r.id) as [string, string];
  uploader = await createMember(orgId, 'viewer');
  solar = await readyDocument(orgId, {
    title: 'Solar installation handbook',
    categoryId,
    chunks: [
      { text: WARRANTY, page: 2, headings: ['Warranty'] },
      { text: MAINTENANCE, page: 3, headings: ['Maintenance'] },
    ],
  });
  arabic = await readyDocument(orgId, {
    title: 'دليل الألواح الشمسية',
    language: 'ar',
    categoryId,
    chunks: [{ text: ARABIC_WARRANTY, page: 1 }],
  });
  budget = await readyDocument(orgId, {
    title: 'Quarterly budget review',
    visibility: 'private',
    uploadedBy: uploader.userId,
    categoryId: otherCategoryId,
    chunks: [BUDGET],
  });
  await readyDocument(orgId, {
    title: 'Airship notes',
    status: 'embedding',
    chunks: ['The zeppelin hangar warranty lasts forty years.'],
  });
}, 60_000);

describe('POST /v1/ask', () => {
  it('answers an English question with the sentence that says it, cited with its pages and offsets', async () => {
    const { auth } = await authFor();
    const body = await answered(auth, {
      question: 'How long is the warranty on the solar panels?',
    });
    expect(body.status).toBe('answered');
    // The local cloud's Workers AI answers the model's prompt with the extractive engine.
    expect(body.engine).toBe('model');
    expect(body.model).toBe(DEFAULT_AI_MODEL);
    expect(body.cached).toBe('none');
    expect(body.answer).toContain('twenty-five years');
    const citation = body.citations.find((c) => c.document_id === solar.id)!;
    expect(citation).toMatchObject({
      number: 1,
      title: 'Solar installation handbook',
      page_start: 2,
      page_end: 2,
      chunk_index: 0,
      heading_path: ['Warranty'],
    });
    expect(citation.passage).toContain('twenty-five years');
    // The offsets are the passage's place in the document's text.
    const chunk = solar.chunks[0]!;
    expect(
      chunk.text.slice(citation.char_start - chunk.charStart, citation.char_end - chunk.charStart),
    ).toBe(citation.passage);
    expect(body.tokens.input).toBeGreaterThan(0);
    expect(body.estimated_cost_usd).toBeGreaterThan(0);
    expect(body.timing.total_ms).toBeGreaterThanOrEqual(body.timing.retrieval_ms);
  });

  it('answers an Arabic question from the Arabic document', async () => {
    const { auth } = await authFor();
    const body = await answered(auth, { question: 'كم مدة ضمان الألواح الشمسية؟' });
    expect(body.status).toBe('answered');
    expect(body.answer).toContain('خمسة وعشرون');
    expect(body.citations[0]).toMatchObject({ document_id: arabic.id, page_start: 1 });
  });

  it('says it does not know when nothing relevant is found, and cites nothing', async () => {
    const { auth } = await authFor();
    const body = await answered(auth, { question: 'Who won the football world cup in 1998?' });
    expect(body).toMatchObject({ status: 'no_answer', answer: null, citations: [] });
    expect(body.explanation).toMatch(/relevant/);
  });

  it('limits the passages to the documents and category given', async () => {
    const { auth } = await authFor('owner');
    const question = 'How long is the warranty on the solar panels?';
    const elsewhere = await answered(auth, { question, document_ids: [budget.id] });
    expect(elsewhere.status).toBe('no_answer');
    const named = await answered(auth, { question, document_ids: [solar.id] });
    expect(named.citations.map((c) => c.document_id)).toEqual([solar.id]);
    const otherCategory = await answered(auth, { question, category_id: otherCategoryId });
    expect(otherCategory.status).toBe('no_answer');
    const category = await answered(auth, { question, category_id: categoryId, locale: 'en' });
    expect(category.status).toBe('answered');
    expect(new Set(category.citations.map((c) => c.document_id))).toEqual(new Set([solar.id]));
  });

  it("never shows another member's private document, even from the cache", async () => {
    const question = 'What did the quarterly budget review find about travel costs?';
    const own = await answered({ ...bearer((await tokenFor(uploader)).token) }, { question });
    expect(own.status).toBe('answered');
    expect(own.citations.map((c) => c.document_id)).toEqual([budget.id]);
    const { auth } = await authFor();
    const other = await answered(auth, { question });
    expect(other.status).toBe('no_answer');
    expect(other.cached).toBe('none');
    expect(JSON.stringify(other)).not.toContain('twelve percent');
    // An admin sees every document.
    const admin = await authFor('admin');
    const seen = await answered(admin.auth, { question });
    expect(seen.citations.map((c) => c.document_id)).toEqual([budget.id]);
  });

  it('does not cite a document that is not ready', async () => {
    const { auth } = await authFor();
    const body = await answered(auth, {
      question: 'How long does the zeppelin hangar warranty last?',
    });
    expect(body).toMatchObject({ status: 'no_answer', answer: null, citations: [] });
  });

  it('serves the same question from the exact cache, a paraphrase from the semantic cache, and misses once documents change', async () => {
    const { auth } = await authFor('editor');
    const scope = { document_ids: [solar.id, arabic.id] };
    const first = await answered(auth, {
      question: 'How long is the warranty on the solar panels?',
      ...scope,
    });
    expect(first.cached).toBe('none');
    const exact = await answered(auth, {
      question: '  how long is the WARRANTY on the solar panels ',
      ...scope,
    });
    expect(exact.cached).toBe('exact');
    expect(first.tokens.input).toBeGreaterThan(0);
    expect(exact.tokens).toEqual({ input: 0, output: 0 });
    expect(exact.answer).toBe(first.answer);
    expect(exact.citations).toEqual(first.citations);
    const semantic = await answered(auth, {
      question: 'How long are the solar panels under warranty?',
      ...scope,
    });
    expect(semantic).toMatchObject({
      cached: 'semantic',
      cached_question: 'How long is the warranty on the solar panels?',
      answer: first.answer,
    });
    expect(semantic.cached_similarity).toBeGreaterThanOrEqual(0.92);
    // Another question about the same document is not a paraphrase.
    const inverters = await answered(auth, {
      question: 'How long is the warranty on the inverters?',
      ...scope,
    });
    expect(inverters.cached).toBe('none');
    // A document becoming ready bumps the generation: every cached answer retires.
    await readyDocument(orgId, { title: 'Unrelated', chunks: ['Opening hours are nine to five.'] });
    const after = await answered(auth, {
      question: 'How long is the warranty on the solar panels?',
      ...scope,
    });
    expect(after.cached).toBe('none');
  });

  it('drops a deleted document at once: neither its index entries nor a cached answer cite it', async () => {
    const { auth } = await authFor('editor');
    const doomed = await readyDocument(orgId, {
      title: 'Lighthouse keeping',
      chunks: ['The lighthouse lamp is cleaned every Tuesday by the keeper.'],
    });
    const question = 'When is the lighthouse lamp cleaned?';
    const before = await answered(auth, { question });
    expect(before.citations[0]?.document_id).toBe(doomed.id);
    // The row goes without the pipeline: vectors and the generation stay as they were.
    await testDb().delete(documents).where(eq(documents.id, doomed.id));
    const after = await answered(auth, { question });
    expect(after.cached).toBe('none');
    expect(after.status).toBe('no_answer');
  });

  it('streams retrieval, answer deltas and done as server-sent events, in order', async () => {
    const { auth } = await authFor();
    const response = await ask(
      auth,
      { question: 'How often do maintenance visits take place?' },
      { Accept: 'text/event-stream' },
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const text = await response.text();
    const events = text
      .split('\n\n')
      .filter((block) => block.trim() !== '')
      .map((block) => {
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        return { event, data: JSON.parse(data ?? 'null') };
      });
    const names = events.map((e) => e.event);
    expect(names[0]).toBe('retrieval');
    expect(names.at(-1)).toBe('done');
    expect(names.slice(1, -1).every((n) => n === 'delta')).toBe(true);
    expect(names.length).toBeGreaterThan(2);
    const done = events.at(-1)!.data as AskResult;
    expect(done.answer).toContain('every six months');
    expect(
      events
        .slice(1, -1)
        .map((e) => e.data.text)
        .join(''),
    ).toBe(done.answer);
    // The passages found come first, whole; the answer cites its sentences within them.
    const found = events[0]!.data.citations as AskResult['citations'];
    for (const cited of done.citations) {
      const passage = found.find(
        (f) => f.document_id === cited.document_id && f.chunk_index === cited.chunk_index,
      )!;
      expect(passage.passage).toContain(cited.passage);
      expect(passage.char_start).toBeLessThanOrEqual(cited.char_start);
      expect(passage.char_end).toBeGreaterThanOrEqual(cited.char_end);
    }
  });

  it('sends a failure once the stream has started as an error event carrying the problem', async () => {
    const { auth } = await authFor();
    const response = await call(
      '/v1/ask',
      {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json', Accept: 'text/event-stream' },
        body: JSON.stringify({ question: 'How often do maintenance visits take place?' }),
      },
      { DATABASE_URL: DEAD_DATABASE_URL },
    );
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toMatch(/^event: error$/m);
    expect(text).not.toMatch(/^event: done$/m);
    const data = JSON.parse(/^data: (.*)$/m.exec(text)![1]!) as { status: number; code: string };
    expect(data).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' });
    resetBreakers();
  });

  it('refuses bad input with a 400 naming the field', async () => {
    const { auth } = await authFor();
    const cases: [unknown, string][] = [
      [{ question: '' }, 'question'],
      [{ question: '   ' }, 'question'],
      [{ question: '?!…' }, 'question'],
      [{ question: 'x'.repeat(1001) }, 'question'],
      [{}, 'question'],
      [
        { question: 'ok', document_ids: Array.from({ length: 51 }, () => newId('document')) },
        'document_ids',
      ],
      [{ question: 'ok', document_ids: ['nope'] }, 'document_ids.0'],
      [{ question: 'ok', category_id: 'cnt_x' }, 'category_id'],
      [{ question: 'ok', top_k: 0 }, 'top_k'],
      [{ question: 'ok', surprise: true }, 'surprise'],
    ];
    for (const [body, path] of cases) {
      const problem = await expectProblem(await ask(auth, body), 400);
      expect(
        problem.errors?.map((e) => e.path),
        JSON.stringify(body).slice(0, 80),
      ).toContain(`body.${path}`);
    }
  });
});
