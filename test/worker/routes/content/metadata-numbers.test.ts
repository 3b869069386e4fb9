import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTenant, tokenFor } from '../../auth.ts';
import { call, expectProblem, untilQuiet } from '../../helpers.ts';

// JSON.parse turns a literal beyond a double's range into ±Infinity, which JSON.stringify then
// writes as null: the body is sent as text so the literal reaches the Worker as the client wrote it.
const send = (auth: Record<string, string>, path: string, method: string, body: string) =>
  call(path, {
    method,
    headers: {
      ...auth,
      'Content-Type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json',
    },
    body,
  });

const TITLE = '"translations": {"en": {"title": "Numbers"}}';

describe('metadata numbers beyond a double', () => {
  let auth: Record<string, string>;
  let id: string;

  beforeAll(async () => {
    const { owner } = await createTenant('metadata-numbers');
    auth = bearer((await tokenFor(owner)).token);
    const created = await send(auth, '/v1/content', 'POST', `{${TITLE}, "metadata": {"n": 1}}`);
    expect(created.status).toBe(202);
    id = ((await created.json()) as { content: { id: string } }).content.id;
  });
  afterAll(() => untilQuiet());

  it.each([
    ['1e400', '{"price": 1e400}', 'body.metadata.price'],
    ['-1e400', '{"price": -1e400}', 'body.metadata.price'],
    ['nested in an array', '{"a": {"b": [1, 2e999]}}', 'body.metadata.a.b.1'],
  ])('refuses %s on create with a 400 naming the field', async (_, metadata, path) => {
    const response = await send(auth, '/v1/content', 'POST', `{${TITLE}, "metadata": ${metadata}}`);
    const problem = await expectProblem(response, 400);
    expect(problem.code).toBe('VALIDATION_FAILED');
    expect(problem.errors).toEqual([
      expect.objectContaining({ path, message: expect.stringMatching(/finite number/) }),
    ]);
  });

  it('refuses it in a full update, a merge patch and a bulk item', async () => {
    const put = await send(
      auth,
      `/v1/content/${id}`,
      'PUT',
      `{${TITLE}, "metadata": {"x": 1e400}}`,
    );
    expect((await expectProblem(put, 400)).errors?.[0]?.path).toBe('body.metadata.x');
    const patch = await send(auth, `/v1/content/${id}`, 'PATCH', '{"metadata": {"x": -1e400}}');
    expect((await expectProblem(patch, 400)).errors?.[0]?.path).toBe('body.metadata.x');
    const bulk = await send(
      auth,
      '/v1/content/bulk',
      'POST',
      `{"items": [{"op": "create", "data": {${TITLE}, "metadata": {"x": 1e400}}}]}`,
    );
    const body = (await bulk.json()) as {
      results: { status: number; problem: { errors?: { path: string }[] } | null }[];
    };
    expect(body.results[0]?.status).toBe(400);
    expect(body.results[0]?.problem?.errors?.[0]?.path).toBe('body.items.0.data.metadata.x');
  });

  it('keeps the largest finite numbers as they are', async () => {
    const response = await send(
      auth,
      '/v1/content',
      'POST',
      `{${TITLE}, "metadata": {"max": 1.7976931348623157e308, "min": -1.7976931348623157e308, "tiny": 5e-324}}`,
    );
    expect(response.status).toBe(202);
    const { content } = (await response.json()) as {
      content: { metadata: Record<string, number> };
    };
    expect(content.metadata).toEqual({
      max: Number.MAX_VALUE,
      min: -Number.MAX_VALUE,
      tiny: Number.MIN_VALUE,
    });
  });

  it('cannot receive NaN: it is not JSON, and the body is refused as such', async () => {
    const response = await send(auth, '/v1/content', 'POST', `{${TITLE}, "metadata": {"x": NaN}}`);
    await expectProblem(response, 400);
  });
});

// Found by the Unicode property test: `{"__proto__": …}` passed validation and was silently
// dropped (the validator copies the object by assignment), so the client read back `{}`.
describe('metadata members named __proto__', () => {
  let auth: Record<string, string>;

  beforeAll(async () => {
    const { owner } = await createTenant('metadata-proto');
    auth = bearer((await tokenFor(owner)).token);
  });
  afterAll(() => untilQuiet());

  it.each([
    ['at the top', '{"__proto__": "call"}', 'body.metadata.__proto__'],
    ['nested', '{"a": {"__proto__": {"x": 1}}}', 'body.metadata.a.__proto__'],
    ['in an array', '{"a": [{"__proto__": 1}]}', 'body.metadata.a.0.__proto__'],
  ])('refuses one %s with a 400 naming it, where it was lost before', async (_, metadata, path) => {
    const response = await send(auth, '/v1/content', 'POST', `{${TITLE}, "metadata": ${metadata}}`);
    const problem = await expectProblem(response, 400);
    expect(problem.errors).toEqual([
      expect.objectContaining({ path, message: expect.stringMatching(/__proto__/) }),
    ]);
  });

  it('refuses it in a merge patch, and keeps other names such as constructor', async () => {
    const created = await send(
      auth,
      '/v1/content',
      'POST',
      `{${TITLE}, "metadata": {"constructor": 1, "prototype": {"toString": 2}}}`,
    );
    expect(created.status).toBe(202);
    const { content } = (await created.json()) as {
      content: { id: string; metadata: Record<string, unknown> };
    };
    expect(content.metadata).toEqual({ constructor: 1, prototype: { toString: 2 } });
    const patch = await send(
      auth,
      `/v1/content/${content.id}`,
      'PATCH',
      '{"metadata": {"__proto__": {"polluted": true}}}',
    );
    expect((await expectProblem(patch, 400)).errors?.[0]?.path).toBe('body.metadata.__proto__');
  });
});
