import { eq, inArray } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSnapshots } from '../../../shared/content/store.ts';
import {
  accessRules,
  apiKeys,
  events,
  operations,
  synonyms,
} from '../../../shared/db/schema/index.ts';
import type { Problem } from '../../../shared/errors.ts';
import { unstorable } from '../../../shared/text/storable.ts';
import { bearer, createMember, createTenant, type Member, tokenFor } from '../auth.ts';
import { call, eventually, testDb, untilQuiet } from '../helpers.ts';

/**
 * Property: whatever Unicode a client sends through a write route, the answer is a 4xx problem
 * naming a field, or the write is accepted and ends in Postgres — its operation `applied` (or
 * `failed` with a problem) — and reads back equal to what was sent (after the documented
 * normalisation: titles and summaries trimmed, tags NFC, trimmed and lower-cased). Text holding
 * U+0000 or an unpaired surrogate is always refused. Inputs are sampled with fast-check (any
 * code point, half surrogates included, graphemes, and hand-picked hard cases) and sent
 * concurrently; a failure names the seed that reproduces the sample.
 */

const SEED = Date.now() % 2 ** 31;
const RUNS = 24;
const db = testDb();

/** Strings a client might send: arbitrary code points, graphemes, and known troublemakers. */
const text = (maxLength: number) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength }) },
    { weight: 3, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength }) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        'nul\u0000inside',
        '\ud800 high alone',
        'low alone \udc00',
        '\ufeffbom',
        'rtl \u202e override',
        'e\u0301 combining',
        '𝕊𝕚𝕗𝕥 astral',
        'مرحبا\u0640 بالعالم',
        '\u200b\u200c\u200d zero width',
        ' padded ',
        '\\u0000 escaped text',
        '"quotes" and \\ backslash',
        '__proto__',
      ),
    },
  );

const sample = <T>(arbitrary: fc.Arbitrary<T>) =>
  fc.sample(arbitrary, { numRuns: RUNS, seed: SEED });
/** Whether any string or key in `value` breaks the text rule. */
function hasUnstorable(value: unknown): boolean {
  if (typeof value === 'string') return unstorable(value) !== undefined;
  if (Array.isArray(value)) return value.some(hasUnstorable);
  if (value && typeof value === 'object') {
    return Object.entries(value).some(([k, v]) => unstorable(k) !== undefined || hasUnstorable(v));
  }
  return false;
}

const tagForm = (tag: string) => tag.normalize('NFC').trim().toLowerCase();

let owner: Member;
let auth: Record<string, string>;

beforeAll(async () => {
  const tenant = await createTenant('unicode');
  owner = await createMember(tenant.orgId, 'owner', { superAdmin: true });
  auth = bearer((await tokenFor(owner)).token);
});

afterAll(() => untilQuiet());

const send = (method: string, path: string, body?: unknown) =>
  call(path, {
    method,
    headers: { ...auth, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

/** A 4xx naming at least one field, and a 400 for text Postgres could not store. */
async function expectRefusal(response: Response, input: unknown, label: string) {
  expect(response.status, label).toBeGreaterThanOrEqual(400);
  expect(response.status, label).toBeLessThan(500);
  const problem = (await response.json()) as Problem;
  expect(problem.errors?.length ?? 0, label).toBeGreaterThan(0);
  if (hasUnstorable(input)) expect(response.status, label).toBe(400);
}

type Operation = { status: string; error: Problem | null };

/**
 * Waits until every operation is applied or failed, then reads each once through the API. The
 * wait polls Postgres rather than the API: dozens of operations polled concurrently would spend
 * the user's read quota (600 a minute) on a slow machine, and the reads that follow would be
 * answered 429.
 */
async function settled(operationIds: string[]): Promise<Operation[]> {
  if (operationIds.length === 0) return [];
  await eventually(async () => {
    const rows = await db
      .select({ status: operations.status })
      .from(operations)
      .where(inArray(operations.id, operationIds));
    return (
      rows.length === operationIds.length &&
      rows.every((r) => r.status === 'applied' || r.status === 'failed')
    );
  }, 30_000);
  const read: Operation[] = [];
  for (const id of operationIds) {
    const response = await send('GET', `/v1/operations/${id}`);
    expect(response.status, id).toBe(200);
    read.push((await response.json()) as Operation);
  }
  return read;
}

type ContentInput = {
  title: string;
  summary: string;
  body: string;
  tag: string;
  key: string;
  value: string;
};

const contentInput: fc.Arbitrary<ContentInput> = fc.record({
  title: text(60),
  summary: text(60),
  body: text(200),
  tag: text(20),
  key: text(20),
  value: text(40),
});

/** Checks an applied item against what was sent, in Postgres and through the API. */
async function expectStored(
  id: string,
  sent: ContentInput,
  label: string,
  metadata: Record<string, string> = { [sent.key]: sent.value },
) {
  const stored = (await loadSnapshots(db, owner.orgId, [id])).get(id);
  const expected = {
    title: sent.title.trim(),
    summary: sent.summary.trim() || null,
    body: sent.body,
  };
  expect(stored?.translations.en, label).toMatchObject(expected);
  expect(stored?.metadata, label).toEqual(metadata);
  expect(stored?.tags, label).toEqual([tagForm(sent.tag)]);
  const response = await send('GET', `/v1/content/${id}`);
  expect(response.status, label).toBe(200);
  const read = (await response.json()) as {
    translations: Record<string, unknown>;
    metadata: unknown;
  };
  expect(read.translations.en, label).toMatchObject(expected);
  expect(read.metadata, label).toEqual(metadata);
}

describe(`arbitrary Unicode through every write route (fast-check seed ${SEED})`, () => {
  it('POST /v1/content: refused with a field named, or applied and read back equal', async () => {
    const inputs = sample(contentInput);
    const answers = await Promise.all(
      inputs.map(async (input) => {
        const response = await send('POST', '/v1/content', {
          translations: { en: { title: input.title, summary: input.summary, body: input.body } },
          tags: [input.tag],
          metadata: { [input.key]: input.value },
        });
        return { input, response };
      }),
    );
    let applied = 0;
    for (const { input, response } of answers) {
      const label = JSON.stringify(input);
      if (response.status !== 202) {
        await expectRefusal(response, input, label);
        continue;
      }
      expect(hasUnstorable(input), label).toBe(false);
      const accepted = (await response.json()) as {
        content: { id: string };
        operation: { id: string };
      };
      const [operation] = await settled([accepted.operation.id]);
      expect(operation!.status === 'applied' || operation!.error !== null, label).toBe(true);
      if (operation!.status !== 'applied') continue;
      applied++;
      await expectStored(accepted.content.id, input, label);
    }
    // The property would hold vacuously if everything were refused.
    expect(applied).toBeGreaterThan(RUNS / 4);
  });

  it('PATCH /v1/content/{id} and bulk: the same contract for updates and bulk items', async () => {
    const created = await send('POST', '/v1/content', {
      translations: { en: { title: 'Patched by fast-check' } },
    });
    const { content } = (await created.json()) as { content: { id: string } };
    const inputs = sample(contentInput);
    // One item's patches apply in order: the texts and tags of the last accepted one stand, and
    // metadata is merged (RFC 7396), key by key.
    let last: ContentInput | undefined;
    const metadata: Record<string, string> = {};
    const accepted: string[] = [];
    for (const input of inputs.slice(0, 8)) {
      const response = await send('PATCH', `/v1/content/${content.id}`, {
        translations: { en: { title: input.title, summary: input.summary, body: input.body } },
        tags: [input.tag],
        metadata: { [input.key]: input.value },
      });
      const label = JSON.stringify(input);
      if (response.status !== 202) await expectRefusal(response, input, label);
      else {
        expect(hasUnstorable(input), label).toBe(false);
        const { operation } = (await response.json()) as { operation: { id: string } };
        accepted.push(operation.id);
        last = input;
        metadata[input.key] = input.value;
      }
    }
    const outcomes = await settled(accepted);
    expect(outcomes.map((o) => o.status)).toEqual(accepted.map(() => 'applied'));
    if (last) await expectStored(content.id, last, JSON.stringify(last), metadata);

    const bulk = await send('POST', '/v1/content/bulk', {
      items: inputs.map((input) => ({
        op: 'create',
        data: {
          translations: { en: { title: input.title, summary: input.summary, body: input.body } },
          tags: [input.tag],
          metadata: { [input.key]: input.value },
        },
      })),
    });
    expect([202, 422]).toContain(bulk.status);
    const { results } = (await bulk.json()) as {
      results: {
        status: number;
        id: string | null;
        operation_id: string | null;
        problem: Problem | null;
      }[];
    };
    const acceptedItems = results.filter((r) => r.status === 202);
    const outcomesById = new Map(
      (await settled(acceptedItems.map((r) => r.operation_id!))).map((o, i) => [
        acceptedItems[i]!.operation_id!,
        o,
      ]),
    );
    for (const [i, result] of results.entries()) {
      const input = inputs[i]!;
      const label = JSON.stringify(input);
      if (result.status !== 202) {
        expect(result.status, label).toBeGreaterThanOrEqual(400);
        expect(result.status, label).toBeLessThan(500);
        expect(result.problem?.errors?.length ?? 0, label).toBeGreaterThan(0);
        if (hasUnstorable(input)) expect(result.status, label).toBe(400);
        continue;
      }
      expect(hasUnstorable(input), label).toBe(false);
      const operation = outcomesById.get(result.operation_id!)!;
      if (operation.status === 'applied') await expectStored(result.id!, input, label);
      else expect(operation.error, label).not.toBeNull();
    }
  });

  it('synonyms, API keys and access rules: refused with a field named, or stored equal', async () => {
    const inputs = sample(
      fc.record({ a: text(30), b: text(30), name: text(50), reason: text(80) }),
    );
    for (const input of inputs) {
      const label = JSON.stringify(input);
      const synonym = await send('POST', '/v1/search/synonyms', {
        locale: 'en',
        kind: 'one_way',
        root: input.a,
        terms: [input.b],
      });
      if (synonym.status === 201) {
        expect(hasUnstorable([input.a, input.b]), label).toBe(false);
        const { id } = (await synonym.json()) as { id: string };
        const [row] = await db.select().from(synonyms).where(eq(synonyms.id, id));
        const term = (s: string) => s.trim().replace(/\s+/gu, ' ');
        expect([row?.root, row?.terms], label).toEqual([term(input.a), [term(input.b)]]);
      } else await expectRefusal(synonym, [input.a, input.b], label);

      const key = await send('POST', '/v1/keys', { name: input.name, scopes: ['content:read'] });
      if (key.status === 201) {
        expect(hasUnstorable(input.name), label).toBe(false);
        const { id } = (await key.json()) as { id: string };
        const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, id));
        expect(row?.name, label).toBe(input.name.trim());
      } else await expectRefusal(key, input.name, label);

      const rule = await send('POST', '/v1/admin/access-rules', {
        list: 'deny',
        subject_type: 'ip',
        value: '192.0.2.250',
        reason: input.reason,
      });
      if (rule.status === 201) {
        expect(hasUnstorable(input.reason), label).toBe(false);
        const { id } = (await rule.json()) as { id: string };
        const [row] = await db.select().from(accessRules).where(eq(accessRules.id, id));
        expect(row?.reason, label).toBe(input.reason.trim());
        await send('DELETE', `/v1/admin/access-rules/${id}`);
      } else await expectRefusal(rule, input.reason, label);
    }
  });

  it('search: any query is answered without a 5xx, and every answered search reaches the analytics', async () => {
    const queries = sample(text(60));
    const answered: string[] = [];
    for (const q of queries) {
      const label = JSON.stringify(q);
      // A URL cannot carry an unpaired surrogate as UTF-8; the JSON body can (`\ud800`).
      const answers = [await send('POST', '/v1/search', { q })];
      if (q.isWellFormed())
        answers.push(await send('GET', `/v1/search?q=${encodeURIComponent(q)}`));
      for (const response of answers) {
        expect(response.status, label).toBeLessThan(500);
        if (response.status === 200) {
          expect(unstorable(q), label).toBeUndefined();
          answered.push(((await response.json()) as { query_id: string }).query_id);
        } else await expectRefusal(response, q, label);
      }
    }
    expect(answered.length).toBeGreaterThan(0);
    await eventually(async () => {
      const rows = await db
        .select({ queryId: events.queryId })
        .from(events)
        .where(inArray(events.queryId, answered));
      return rows.length === answered.length;
    }, 20_000);
  });
});
