import type { Index } from '@upstash/vector';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VectorService } from '../../../tools/local-cloud/vector/index.ts';
import { READONLY_TOKEN, raw, sdk, startTestVector } from './harness.ts';

const BODY_ENDPOINTS = [
  'upsert',
  'upsert-data',
  'update',
  'delete',
  'query',
  'query-data',
  'fetch',
  'range',
  'resumable-query',
  'resumable-query-data',
  'resumable-query-next',
  'resumable-query-end',
];
const WRITE_ENDPOINTS = [
  'upsert',
  'upsert-data',
  'update',
  'delete',
  'reset',
  'delete-namespace/ns',
];

describe('authentication', () => {
  let service: VectorService;

  beforeAll(async () => {
    service = await startTestVector({ kind: 'dense', dimension: 2 });
    await sdk(service).upsert({ id: 'a', vector: [1, 0] });
    await sdk(service)
      .namespace('ns')
      .upsert({ id: 'b', vector: [0, 1] });
  });
  afterAll(() => service.close());

  it("answers 401 with Upstash's body when the token is missing or wrong", async () => {
    const unauthorized = { error: 'Unauthorized: Invalid auth token', status: 401 };
    for (const token of [null, 'wrong', '']) {
      const response = await raw(service, '/info', '[]', { token });
      expect(response.status).toBe(401);
      expect(response.body).toEqual(unauthorized);
    }
    const basic = await raw(service, '/info', '[]', {
      token: null,
      headers: { authorization: 'Basic dGVzdC10b2tlbjo=' },
    });
    expect(basic.status).toBe(401);
    await expect(sdk(service, 'wrong').info()).rejects.toThrow('Unauthorized: Invalid auth token');
  });

  it('lets the read-only token read', async () => {
    const reader = sdk(service, READONLY_TOKEN);
    expect(await reader.fetch(['a'])).toEqual([{ id: 'a' }]);
    expect((await reader.query({ vector: [1, 0], topK: 1 }))[0]?.id).toBe('a');
    expect((await reader.range({ cursor: 0, limit: 5 })).vectors).toHaveLength(1);
    expect((await reader.info()).vectorCount).toBe(2);
    expect(await reader.listNamespaces()).toEqual(['', 'ns']);
    const { stop } = await reader.resumableQuery({ vector: [1, 0], topK: 1, maxIdle: 10 });
    expect(await stop()).toBe('Success');
  });

  it('refuses every write with the read-only token (403) and changes nothing', async () => {
    const reader = sdk(service, READONLY_TOKEN);
    await expect(reader.upsert({ id: 'x', vector: [1, 1] })).rejects.toThrow(
      'Forbidden: /upsert is not allowed',
    );
    await expect(reader.upsert({ id: 'x', data: 'text' })).rejects.toThrow(
      'Forbidden: /upsert-data is not allowed',
    );
    await expect(reader.update({ id: 'a', vector: [0, 1] })).rejects.toThrow('Forbidden: /update');
    await expect(reader.delete('a')).rejects.toThrow('Forbidden: /delete is not allowed');
    await expect(reader.reset({ all: true })).rejects.toThrow('Forbidden: /reset is not allowed');
    await expect(reader.deleteNamespace('ns')).rejects.toThrow(
      'Forbidden: /delete-namespace is not allowed',
    );
    for (const endpoint of WRITE_ENDPOINTS) {
      const response = await raw(service, `/${endpoint}`, '{"id":"x","vector":[1,1]}', {
        token: READONLY_TOKEN,
      });
      expect(response.status).toBe(403);
    }
    expect((await sdk(service).info()).vectorCount).toBe(2);
  });
});

describe('malformed requests', () => {
  let service: VectorService;
  let index: Index;

  beforeAll(async () => {
    service = await startTestVector({ kind: 'dense', dimension: 3 }, { maxBodyBytes: 4096 });
    index = sdk(service);
    await index.upsert({ id: 'a', vector: [1, 0, 0], metadata: { n: 1 } });
  });
  afterAll(() => service.close());

  it("answers garbage JSON on every endpoint with Upstash's 400 and the position", async () => {
    for (const endpoint of BODY_ENDPOINTS) {
      for (const path of [`/${endpoint}`, `/${endpoint}/ns`]) {
        if (path.startsWith('/resumable-query-') && path.endsWith('/ns')) continue;
        const response = await raw(service, path, '{"id": garbage');
        expect(response.status, path).toBe(400);
        expect(response.body, path).toEqual({
          error: 'Missing or wrong input at [Source: (ByteArrayInputStream); line: 1, column: 8]',
          status: 400,
        });
      }
    }
  });

  it('locates syntax errors on later lines, truncated input and empty bodies', async () => {
    const cases: [string, number, number][] = [
      ['{\n  "vector": [1, 2,, 3]\n}', 2, 19],
      ['{"vector": [1, 2, 3]', 1, 21],
      ['{"vector": [1, 2, 3]} trailing', 1, 23],
      ['', 1, 0],
      ['{"a": "\u0001"}', 1, 8],
      ["{'single': 1}", 1, 2],
    ];
    for (const [body, line, column] of cases) {
      const response = await raw(service, '/query', body);
      expect(response.body, body).toEqual({
        error: `Missing or wrong input at [Source: (ByteArrayInputStream); line: ${line}, column: ${column}]`,
        status: 400,
      });
    }
  });

  it('names the field for wrong types and missing fields', async () => {
    const cases: [string, string, string][] = [
      [
        '/upsert',
        '{"id":"x","vector":[1,"two",3]}',
        "Wrong input at 'vector[1]': expected number, received string",
      ],
      [
        '/upsert',
        '[{"id":"x","vector":[1,2,3]},{"id":true,"vector":[1,2,3]}]',
        "Wrong input at '[1].id': expected string or number",
      ],
      ['/upsert', '{"vector":[1,2,3]}', "Missing required field 'id'"],
      [
        '/upsert',
        '"just a string"',
        'Wrong input at the request body: expected object, received string',
      ],
      [
        '/upsert',
        '{"id":"x","vector":[1,2,3],"metadata":[1]}',
        "Wrong input at 'metadata': expected object, received array",
      ],
      ['/upsert-data', '{"id":"x"}', "Missing required field 'data'"],
      [
        '/query',
        '{"vector":[1,2,3],"topK":"ten"}',
        "Wrong input at 'topK': expected number, received string",
      ],
      [
        '/query',
        '{"vector":[1,2,3],"topK":-1}',
        "Wrong input at 'topK': Too small: expected number to be >=0",
      ],
      [
        '/query',
        '{"vector":[1,2,3],"fusionAlgorithm":"MAGIC"}',
        `Wrong input at 'fusionAlgorithm': expected one of "RRF"|"DBSF"`,
      ],
      ['/query', '{"topK":1}', 'Either vector or sparseVector must be provided.'],
      ['/query-data', '{"topK":1}', "Missing required field 'data'"],
      [
        '/query',
        '[{"vector":[1,2,3]},{"vector":"x"}]',
        "Wrong input at '[1].vector': expected array, received string",
      ],
      ['/range', '{"limit":5}', "Missing required field 'cursor'"],
      ['/range', '{"cursor":"abc","limit":5}', 'Invalid cursor: abc'],
      ['/fetch', '{"ids":[{}]}', "Wrong input at 'ids[0]': expected string or number"],
      ['/update', '{"id":"a"}', 'One of vector, sparseVector, data or metadata must be provided.'],
      [
        '/update',
        '{"id":"a","metadataUpdateMode":"MERGE","metadata":{}}',
        `Wrong input at 'metadataUpdateMode': expected one of "PATCH"|"OVERWRITE"`,
      ],
      ['/delete', '{"ids":"a"}', "Wrong input at 'ids': expected array, received string"],
      ['/upsert', '{"id":"","vector":[1,2,3]}', 'Vector id cannot be empty'],
      ['/resumable-query-next', '{"uuid":"x"}', "Missing required field 'additionalK'"],
    ];
    for (const [path, body, message] of cases) {
      const response = await raw(service, path, body);
      expect(response.body, `${path} ${body}`).toEqual({ error: message, status: 400 });
    }
    expect(await index.fetch(['x'])).toEqual([null]);
  });

  it('accepts the older REST shapes: a bare id or id array for delete and fetch', async () => {
    await index.upsert([
      { id: 'b', vector: [0, 1, 0] },
      { id: 'c', vector: [0, 0, 1] },
    ]);
    expect((await raw(service, '/fetch', '["b","zz"]')).body).toEqual({
      result: [{ id: 'b' }, null],
    });
    expect((await raw(service, '/delete', '"b"')).body).toEqual({ result: { deleted: 1 } });
    expect((await raw(service, '/delete', '["c","zz"]')).body).toEqual({ result: { deleted: 1 } });
  });

  it('refuses bodies over the size limit with 413, declared or streamed', async () => {
    const big = JSON.stringify({ id: 'big', vector: [1, 2, 3], data: 'x'.repeat(5000) });
    const declared = await raw(service, '/upsert', big);
    expect(declared).toMatchObject({
      status: 413,
      body: { error: 'Request body is larger than the limit of 4096 bytes', status: 413 },
    });
    const bytes = new TextEncoder().encode(big);
    const streamed = await fetch(`${service.url}/upsert`, {
      method: 'POST',
      headers: { authorization: 'Bearer test-token' },
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < bytes.length; i += 1000) controller.enqueue(bytes.slice(i, i + 1000));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(await streamed.json()).toEqual({
      error: 'Request body is larger than the limit of 4096 bytes',
      status: 413,
    });
    expect(await index.fetch(['big'])).toEqual([null]);
  });

  it('answers unknown endpoints with 404, other methods with 405, bad paths with 400', async () => {
    expect(await raw(service, '/nope', '{}')).toMatchObject({
      status: 404,
      body: { error: 'Not Found: /nope', status: 404 },
    });
    expect((await raw(service, '/', '{}')).status).toBe(404);
    expect((await raw(service, '/info/extra', '[]')).status).toBe(404);
    expect((await raw(service, '/info', '[]', { method: 'PATCH' })).status).toBe(405);
    expect((await raw(service, '/query/%E0%A4%A', '{"vector":[1,0,0]}')).status).toBe(400);
    expect((await raw(service, '/info', undefined, { method: 'GET' })).status).toBe(200);
  });

  it('ignores the body on endpoints that take none', async () => {
    for (const path of ['/info', '/list-namespaces', '/reset/none']) {
      expect((await raw(service, path, 'garbage')).status, path).toBe(200);
    }
  });

  it('keeps serving after all of the above', async () => {
    expect(await index.upsert({ id: 'after', vector: [1, 1, 1] })).toBe('Success');
    expect((await index.query({ vector: [1, 1, 1], topK: 1 }))[0]?.id).toBe('after');
  });
});
