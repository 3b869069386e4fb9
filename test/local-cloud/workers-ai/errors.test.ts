import { describe, expect, it } from 'vitest';
import { ACCOUNT, type Envelope, expectFailure, run, TOKEN, useWorkersAi } from './harness.ts';

const ai = useWorkersAi();
const M3 = '@cf/baai/bge-m3';

describe('authentication and account', () => {
  it('refuses a request without a token: 401, code 10000', async () => {
    expectFailure(
      await run(ai.service, M3, { text: ['x'] }, { token: null }),
      401,
      10_000,
      'Authentication error',
    );
  });

  it('refuses a wrong token, and one that differs only in its last character', async () => {
    for (const token of ['wrong', `${TOKEN.slice(0, -1)}X`, `${TOKEN}x`]) {
      expectFailure(
        await run(ai.service, M3, { text: ['x'] }, { token }),
        401,
        10_000,
        'Authentication error',
      );
    }
  });

  it('takes the token only as a bearer token', async () => {
    const response = await fetch(`${ai.service.apiUrl}/accounts/${ACCOUNT}/ai/run/${M3}`, {
      method: 'POST',
      headers: { authorization: TOKEN },
      body: '{"text":"x"}',
    });
    expect(response.status).toBe(401);
  });

  it('refuses an account other than the configured one: 403 naming both', async () => {
    const message = expectFailure(
      await run(ai.service, M3, { text: ['x'] }, { account: 'other-account' }),
      403,
      10_000,
    );
    expect(message).toMatch(/^Authentication error: /);
    expect(message).toContain('"other-account"');
    expect(message).toContain(`"${ACCOUNT}"`);
  });
});

describe('models and routes', () => {
  it('refuses an unknown model: 400, code 5007 "No such model"', async () => {
    for (const model of ['@cf/baai/bge-huge', '@cf/meta/llama-2-7b-chat-fp16', 'bge-m3']) {
      const message = expectFailure(await run(ai.service, model, { text: ['x'] }), 400, 5007);
      expect(message).toMatch(new RegExp(`^No such model ${model} or task`));
      expect(message).toContain('@cf/baai/bge-m3');
    }
  });

  it('accepts a percent-encoded model name', async () => {
    const answer = await run(ai.service, '%40cf%2Fbaai%2Fbge-small-en-v1.5', { text: 'x' });
    expect(answer.status).toBe(200);
    expect(answer.body.result).toMatchObject({ shape: [1, 384] });
  });

  it('answers 404, code 7000 "No route for that URI" to other paths', async () => {
    for (const path of [
      '/',
      '/client/v4',
      `/client/v4/accounts/${ACCOUNT}/ai/models/search`,
      `/client/v4/accounts/${ACCOUNT}/ai/run/`,
      `/client/v5/accounts/${ACCOUNT}/ai/run/${M3}`,
      `/accounts/${ACCOUNT}/ai/run/${M3}`,
    ]) {
      const response = await fetch(`${ai.service.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
        body: '{"text":"x"}',
      });
      const body = (await response.json()) as Envelope;
      expectFailure({ status: response.status, body }, 404, 7000, 'No route for that URI');
    }
  });

  it('answers 405, code 10405 "Method not allowed" to a method other than POST', async () => {
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH']) {
      expectFailure(
        await run(ai.service, M3, method === 'GET' ? undefined : '{"text":"x"}', { method }),
        405,
        10_405,
        'Method not allowed',
      );
    }
  });
});

describe('invalid input: 400, code 5006, naming the field', () => {
  const cases: [string, unknown, string | RegExp][] = [
    ['a body that is not JSON', '{"text": [', 'Error: the request body is not valid JSON'],
    ['an empty body', '', 'Error: the request body is not valid JSON'],
    ['a body that is an array', '["x"]', "Type mismatch of '/', 'array' not in 'object'"],
    ['a body that is a string', '"x"', "Type mismatch of '/', 'string' not in 'object'"],
    ['no text', { truncate_inputs: true }, "Error: required properties at '/' are 'text'"],
    ['text: null', { text: null }, "Type mismatch of '/text', 'null' not in 'string', 'array'"],
    [
      'a number as text',
      { text: 42 },
      "Type mismatch of '/text', 'number' not in 'string', 'array'",
    ],
    [
      'an object as text',
      { text: { a: 1 } },
      "Type mismatch of '/text', 'object' not in 'string', 'array'",
    ],
    [
      'an empty array',
      { text: [] },
      "Error: array at '/text' has no items; at least 1 is required",
    ],
    [
      'more than 100 texts',
      { text: Array.from({ length: 101 }, () => 'x') },
      "Error: array at '/text' has 101 items, more than the 100 allowed",
    ],
    [
      'a non-string item',
      { text: ['a', 'b', 3] },
      "Type mismatch of '/text/2', 'number' not in 'string'",
    ],
    ['a null item', { text: ['a', null] }, "Type mismatch of '/text/1', 'null' not in 'string'"],
    [
      'truncate_inputs that is not a boolean',
      { text: ['a'], truncate_inputs: 'yes' },
      "Type mismatch of '/truncate_inputs', 'string' not in 'boolean'",
    ],
    [
      'the asynchronous batch form',
      { requests: [{ text: ['a'] }] },
      /^Error: batched 'requests' .* not supported by the local Workers AI/,
    ],
  ];

  it.each(cases)('refuses %s', async (_, body, message) => {
    expectFailure(await run(ai.service, M3, body), 400, 5006, message);
  });

  it('refuses a pooling other than mean or cls on the models that take one', async () => {
    expectFailure(
      await run(ai.service, '@cf/baai/bge-base-en-v1.5', { text: 'x', pooling: 'max' }),
      400,
      5006,
      `Error: '/pooling' must be one of 'mean', 'cls', got "max"`,
    );
  });

  it('refuses contexts on a model that only embeds text', async () => {
    expectFailure(
      await run(ai.service, '@cf/baai/bge-small-en-v1.5', { contexts: [{ text: 'a' }] }),
      400,
      5006,
      "Error: required properties at '/' are 'text'",
    );
  });

  it('refuses bad contexts on bge-m3, naming the field', async () => {
    const bad: [unknown, string][] = [
      [{ text: 'a', contexts: [{ text: 'b' }] }, "Error: properties 'text' and 'contexts'"],
      [{ contexts: 'a' }, "Type mismatch of '/contexts', 'string' not in 'array'"],
      [{ contexts: [] }, "Error: array at '/contexts' has no items"],
      [{ contexts: ['a'] }, "Type mismatch of '/contexts/0', 'string' not in 'object'"],
      [
        { contexts: [{ text: 1 }] },
        "Type mismatch of '/contexts/0/text', 'number' not in 'string'",
      ],
      [
        { query: 1, contexts: [{ text: 'a' }] },
        "Type mismatch of '/query', 'number' not in 'string'",
      ],
    ];
    for (const [body, start] of bad) {
      const message = expectFailure(await run(ai.service, M3, body), 400, 5006);
      expect(message.startsWith(start), message).toBe(true);
    }
  });
});
