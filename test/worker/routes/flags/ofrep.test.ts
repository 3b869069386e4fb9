import { OFREPProvider } from '@openfeature/ofrep-provider';
import { OpenFeature } from '@openfeature/server-sdk';
import { describe, expect, it } from 'vitest';
import { bearer } from '../../auth.ts';
import { BASE, call } from '../../helpers.ts';
import { insertKey, json, signedIn } from '../keys/fixtures.ts';
import { booleanFlag, createFlag, patchFlag } from './fixtures.ts';

/** A `fetch` for the provider that calls this Worker in-process, as `call` does. */
async function workerFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const request = new Request(input, init);
  const url = new URL(request.url);
  return call(`${url.pathname}${url.search}`, {
    method: request.method,
    headers: request.headers,
    body: request.method === 'GET' ? undefined : await request.text(),
  });
}

/** An organisation with a few flags, and an API key that may only evaluate them. */
async function world(label: string) {
  const { orgId, auth } = await signedIn(label);
  await createFlag(
    auth,
    booleanFlag('new-checkout', {
      rules: [
        { conditions: [{ attribute: 'country', operator: 'equals', value: 'SA' }], variant: 'on' },
      ],
    }),
  );
  await createFlag(auth, {
    key: 'banner-text',
    type: 'string',
    variants: [
      { key: 'plain', value: 'Welcome' },
      { key: 'bold', value: 'WELCOME' },
    ],
    default_variant: 'plain',
    rules: [{ rollout: { variant: 'bold', percent: 100 } }],
  });
  await createFlag(auth, {
    key: 'limits',
    type: 'json',
    variants: [{ key: 'base', value: { uploads: 10 } }],
    default_variant: 'base',
  });
  await createFlag(auth, {
    key: 'max-items',
    type: 'number',
    variants: [{ key: 'ten', value: 10 }],
    default_variant: 'ten',
  });
  const { secret } = await insertKey(orgId, { scopes: ['flags:evaluate'] });
  return { orgId, auth, secret };
}

describe('OFREP with the OpenFeature server SDK and its OFREP provider', () => {
  it('evaluates booleans, strings, numbers and objects with OpenFeature reasons', async () => {
    const { secret } = await world('ofrep-sdk');
    const domain = `sift-${crypto.randomUUID()}`;
    await OpenFeature.setProviderAndWait(
      domain,
      new OFREPProvider({
        baseUrl: BASE,
        headers: { Authorization: `Bearer ${secret}` },
        fetchImplementation: workerFetch,
      }),
    );
    const client = OpenFeature.getClient(domain);
    const sa = { targetingKey: 'user-42', country: 'SA' };
    expect(await client.getBooleanDetails('new-checkout', false, sa)).toMatchObject({
      value: true,
      variant: 'on',
      reason: 'TARGETING_MATCH',
    });
    expect(
      await client.getBooleanDetails('new-checkout', true, { targetingKey: 'u' }),
    ).toMatchObject({ value: false, reason: 'DEFAULT' });
    expect(await client.getStringDetails('banner-text', 'x', sa)).toMatchObject({
      value: 'WELCOME',
      reason: 'SPLIT',
    });
    expect(await client.getNumberValue('max-items', 0, sa)).toBe(10);
    expect(await client.getObjectValue('limits', {}, sa)).toEqual({ uploads: 10 });
    // Errors: the SDK answers the code default with OpenFeature's error code.
    expect(await client.getBooleanDetails('no-such-flag', true, sa)).toMatchObject({
      value: true,
      reason: 'ERROR',
      errorCode: 'FLAG_NOT_FOUND',
    });
    expect(await client.getBooleanDetails('banner-text', false, sa)).toMatchObject({
      value: false,
      reason: 'ERROR',
      errorCode: 'TYPE_MISMATCH',
    });
    expect(
      await client.getStringDetails('banner-text', 'fallback', { country: 'SA' }),
    ).toMatchObject({ value: 'fallback', reason: 'ERROR', errorCode: 'TARGETING_KEY_MISSING' });
    await OpenFeature.clearProviders();
  });

  it('authenticates with X-API-Key as well', async () => {
    const { secret } = await world('ofrep-x-api-key');
    const domain = `sift-${crypto.randomUUID()}`;
    await OpenFeature.setProviderAndWait(
      domain,
      new OFREPProvider({
        baseUrl: BASE,
        headers: [['X-API-Key', secret]],
        fetchImplementation: workerFetch,
      }),
    );
    const client = OpenFeature.getClient(domain);
    expect(await client.getNumberValue('max-items', 0, { targetingKey: 'k' })).toBe(10);
    await OpenFeature.clearProviders();
  });
});

describe('POST /ofrep/v1/evaluate/flags (bulk)', () => {
  it('answers every live flag with an ETag, then 304 until the flag set or context changes', async () => {
    const { auth, secret } = await world('ofrep-bulk');
    const key = bearer(secret);
    const context = { context: { targetingKey: 'user-1', country: 'SA' } };
    const first = await call('/ofrep/v1/evaluate/flags', json('POST', context, key));
    expect(first.status).toBe(200);
    const etag = first.headers.get('ETag')!;
    const body = (await first.json()) as { flags: { key: string; value?: unknown }[] };
    expect(body.flags.map((f) => [f.key, f.value])).toEqual([
      ['banner-text', 'WELCOME'],
      ['limits', { uploads: 10 }],
      ['max-items', 10],
      ['new-checkout', true],
    ]);
    const again = await call(
      '/ofrep/v1/evaluate/flags',
      json('POST', context, { ...key, 'If-None-Match': etag }),
    );
    expect(again.status).toBe(304);
    const otherContext = await call(
      '/ofrep/v1/evaluate/flags',
      json('POST', { context: { targetingKey: 'user-2' } }, { ...key, 'If-None-Match': etag }),
    );
    expect(otherContext.status).toBe(200);
    await patchFlag(auth, 'new-checkout', { kill_switch: true });
    const changed = await call(
      '/ofrep/v1/evaluate/flags',
      json('POST', context, { ...key, 'If-None-Match': etag }),
    );
    expect(changed.status).toBe(200);
    expect(changed.headers.get('ETag')).not.toBe(etag);
  });

  it('answers 400 INVALID_CONTEXT for a context that is not an object', async () => {
    const { secret } = await world('ofrep-invalid');
    const response = await call(
      '/ofrep/v1/evaluate/flags',
      json('POST', { context: { targetingKey: 42 } }, bearer(secret)),
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ errorCode: 'INVALID_CONTEXT' });
  });

  it('refuses a caller without flags:evaluate', async () => {
    const { orgId } = await world('ofrep-403');
    const { secret } = await insertKey(orgId, { scopes: ['content:read'] });
    const response = await call('/ofrep/v1/evaluate/flags', json('POST', {}, bearer(secret)));
    expect(response.status).toBe(403);
  });
});

describe('POST /ofrep/v1/evaluate/flags/{key}', () => {
  it('answers 404 FLAG_NOT_FOUND and 400 TARGETING_KEY_MISSING in OFREP shapes', async () => {
    const { secret } = await world('ofrep-single');
    const missing = await call('/ofrep/v1/evaluate/flags/nope', json('POST', {}, bearer(secret)));
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ key: 'nope', errorCode: 'FLAG_NOT_FOUND' });
    const keyless = await call(
      '/ofrep/v1/evaluate/flags/banner-text',
      json('POST', { context: {} }, bearer(secret)),
    );
    expect(keyless.status).toBe(400);
    expect(await keyless.json()).toMatchObject({
      key: 'banner-text',
      errorCode: 'TARGETING_KEY_MISSING',
    });
  });
});

describe('OFREP bodies that are not JSON', () => {
  const notJson = [
    ['malformed JSON sent as application/json', 'application/json', '{"context": {'],
    ['plain text', 'text/plain', 'targetingKey=user-1'],
  ] as const;

  it.each(notJson)('answers 400 PARSE_ERROR in the OFREP shape for %s', async (_, type, body) => {
    const { secret } = await world(`ofrep-parse-${type.replace('/', '-')}`);
    const headers = { ...bearer(secret), 'Content-Type': type };
    const single = await call('/ofrep/v1/evaluate/flags/max-items', {
      method: 'POST',
      headers,
      body,
    });
    expect(single.status).toBe(400);
    expect(single.headers.get('Content-Type')).toMatch(/^application\/json/);
    const singleBody = (await single.json()) as Record<string, unknown>;
    expect(singleBody).toMatchObject({ key: 'max-items', errorCode: 'PARSE_ERROR' });
    expect(singleBody.errorDetails).toEqual(expect.stringContaining('not JSON'));
    const bulk = await call('/ofrep/v1/evaluate/flags', { method: 'POST', headers, body });
    expect(bulk.status).toBe(400);
    const bulkBody = (await bulk.json()) as Record<string, unknown>;
    expect(bulkBody).toMatchObject({ errorCode: 'PARSE_ERROR' });
    expect(bulkBody).not.toHaveProperty('key');
  });

  it('still evaluates an empty body as an empty context, and asks for credentials first', async () => {
    const { secret } = await world('ofrep-parse-empty');
    const empty = await call('/ofrep/v1/evaluate/flags/max-items', {
      method: 'POST',
      headers: bearer(secret),
    });
    expect(empty.status).toBe(200);
    expect(await empty.json()).toMatchObject({ key: 'max-items', value: 10 });
    const anonymous = await call('/ofrep/v1/evaluate/flags/max-items', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{',
    });
    expect(anonymous.status).toBe(401);
  });
});
