import { Client } from '@upstash/qstash';
import { describe, expect, it } from 'vitest';
import {
  type Destination,
  freshServiceAndDestination,
  type Setup,
  startService,
} from './harness.ts';

let setup: Setup;
let destination: Destination;

freshServiceAndDestination((s, d) => {
  setup = s;
  destination = d;
});

/** Asserts a QStash-style failure: the status and a JSON `{error}` body. */
async function expectError(response: Response, status: number, error?: string | RegExp) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await response.json()) as { error: unknown };
  expect(Object.keys(body)).toEqual(['error']);
  expect(typeof body.error).toBe('string');
  if (typeof error === 'string') expect(body.error).toBe(error);
  else if (error) expect(body.error).toMatch(error);
}

describe('authentication', () => {
  it('answers 401 to the SDK with a wrong token', async () => {
    const client = new Client({ baseUrl: setup.service.url, token: 'wrong', retry: false });
    await expect(client.publish({ url: destination.url })).rejects.toMatchObject({
      status: 401,
      message: '{"error":"Unauthorized"}',
    });
    await expect(client.schedules.list()).rejects.toMatchObject({ status: 401 });
  });

  it('answers 401 without a token, and accepts ?qstash_token=', async () => {
    await expectError(await fetch(`${setup.service.url}/v2/dlq`), 401, 'Unauthorized');
    const viaQuery = await fetch(`${setup.service.url}/v2/dlq?qstash_token=${setup.token}`);
    expect(viaQuery.status).toBe(200);
  });
});

describe('destinations', () => {
  it('refuses a non-loopback destination at publish time with a clear 400', async () => {
    await expect(
      setup.client.publish({ url: 'https://example.com/hook', body: 'x' }),
    ).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(
        /^\{"error":"invalid destination url: endpoint example\.com is not a loopback address/,
      ),
    });
    for (const url of ['http://10.0.0.1/x', 'http://127.0.0.1.nip.io/x', 'http://[::2]/x']) {
      await expectError(
        await setup.api(`/v2/publish/${url}`, { method: 'POST' }),
        400,
        /^invalid destination url: endpoint .* is not a loopback address/,
      );
    }
  });

  it('accepts every loopback form', async () => {
    for (const url of ['http://localhost:1/x', 'http://127.3.2.1:1/x', 'http://[::1]:1/x']) {
      const response = await setup.api(`/v2/publish/${url}`, {
        method: 'POST',
        headers: { 'Upstash-Delay': '1h' },
      });
      expect(response.status).toBe(200);
    }
  });

  it('refuses a non-loopback callback, failure callback and URL group endpoint', async () => {
    await expect(
      setup.client.publish({ url: destination.url, callback: 'https://example.com/cb' }),
    ).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('invalid callback url'),
    });
    await expect(
      setup.client.publish({ url: destination.url, failureCallback: 'https://example.com/f' }),
    ).rejects.toMatchObject({ status: 400 });
    await expect(
      setup.client.urlGroups.addEndpoints({
        name: 'g',
        endpoints: [{ url: 'https://example.com/e' }],
      }),
    ).rejects.toMatchObject({ status: 400 });
  });

  it('uses allowDestination when given', async () => {
    const strict = await startService({ allowDestination: (url) => url.port === '1' });
    try {
      const ok = await strict.api('/v2/publish/http://127.0.0.1:1/x', {
        method: 'POST',
        headers: { 'Upstash-Delay': '1h' },
      });
      expect(ok.status).toBe(200);
      await expectError(
        await strict.api(`/v2/publish/${destination.url}`, { method: 'POST' }),
        400,
      );
    } finally {
      await strict.service.close();
    }
  });

  it('rejects a destination without http(s) scheme with QStash’s text', async () => {
    const scheme = 'invalid destination url: endpoint has invalid scheme, add http:// or https://';
    await expectError(
      await setup.api('/v2/publish/ftp://127.0.0.1/x', { method: 'POST' }),
      400,
      scheme,
    );
    // A percent-encoded destination is not decoded, as in QStash.
    await expectError(
      await setup.api(`/v2/publish/${encodeURIComponent(destination.url)}`, { method: 'POST' }),
      400,
      scheme,
    );
    await expectError(
      await setup.api('/v2/publish/http://[bad/x', { method: 'POST' }),
      400,
      /^invalid destination url/,
    );
  });
});

describe('malformed requests', () => {
  it('reports a bad Upstash-Delay with Go’s duration error, as QStash does', async () => {
    await expectError(
      await setup.api(`/v2/publish/${destination.url}`, {
        method: 'POST',
        headers: { 'Upstash-Delay': '1' },
      }),
      400,
      'invalid Upstash-Delay header: time: missing unit in duration "1"',
    );
    await expectError(
      await setup.api(`/v2/publish/${destination.url}`, {
        method: 'POST',
        headers: { 'Upstash-Delay': '5y' },
      }),
      400,
      'invalid Upstash-Delay header: time: unknown unit "y" in duration "5y"',
    );
  });

  it('rejects bodies over the 1 MB max message size with 413', async () => {
    const big = 'x'.repeat(1024 * 1024 + 1);
    await expect(setup.client.publish({ url: destination.url, body: big })).rejects.toMatchObject({
      status: 413,
    });
    await expectError(
      await setup.api(`/v2/publish/${destination.url}`, { method: 'POST', body: big }),
      413,
      /max message size/,
    );
    await expectError(
      await setup.api('/v2/batch', {
        method: 'POST',
        body: JSON.stringify([{ destination: destination.url, body: big }]),
      }),
      413,
    );
    // Exactly 1 MB is fine.
    const fits = await setup.api(`/v2/publish/${destination.url}`, {
      method: 'POST',
      body: 'x'.repeat(1024 * 1024),
    });
    expect(fits.status).toBe(200);
  });

  it('answers 404 {error} for unknown paths and 405 for a wrong method', async () => {
    await expectError(await setup.api('/v2/nothing-here'), 404);
    await expectError(await fetch(`${setup.service.url}/`), 404);
    const wrongMethod = await setup.api('/v2/dlq', { method: 'PUT' });
    expect(wrongMethod.status).toBe(405);
    expect(await wrongMethod.text()).toBe('Method Not Allowed');
  });

  it('survives garbage against every endpoint, answering 4xx {error}', async () => {
    const dest = destination.url;
    const garbage = ['{', 'null', '[1,', '"str"', '42', '\u0000\uffff', '{"endpoints":5}', ''];
    // Each of these must be refused with 400 wherever publish headers are read.
    const badHeaders: Record<string, string>[] = [
      { 'Upstash-Delay': 'abc' },
      { 'Upstash-Delay': '-' },
      { 'Upstash-Retries': 'x' },
      { 'Upstash-Retries': '-1' },
      { 'Upstash-Not-Before': 'soon' },
      { 'Upstash-Timeout': '1x' },
      { 'Upstash-Method': 'FETCH' },
      { 'Upstash-Callback': 'ftp://nowhere' },
      { 'Upstash-Failure-Callback': 'not a url' },
      { 'Upstash-Callback': dest, 'Upstash-Callback-Retries': 'many' },
      { 'Upstash-Retry-Delay': 'pow(' },
      { 'Upstash-Retry-Delay': 'process.exit()' },
      { 'Upstash-Flow-Control-Key': 'k' },
      { 'Upstash-Flow-Control-Key': 'k', 'Upstash-Flow-Control-Value': 'speed=9' },
      { 'Upstash-Deduplication-Id': 'a:b' },
    ];
    const badScheduleHeaders: Record<string, string>[] = [
      { 'Upstash-Cron': '* * * * * * *' },
      { 'Upstash-Cron': '*/0 * * * *' },
      { 'Upstash-Cron': '1-2-3 * * * *' },
      { 'Upstash-Cron': '@every soon' },
      { 'Upstash-Cron': 'CRON_TZ= * * * * *' },
      { 'Upstash-Schedule-Id': 'has space' },
    ];
    const refused: [string, string, RequestInit][] = [];
    for (const headers of badHeaders) {
      refused.push(['POST', `/v2/publish/${dest}`, { headers }]);
      refused.push(['POST', `/v2/enqueue/q/${dest}`, { headers }]);
      refused.push(['POST', '/v2/dlq/retry', { headers }]);
    }
    for (const headers of [...badHeaders, ...badScheduleHeaders]) {
      refused.push([
        'POST',
        `/v2/schedules/${dest}`,
        { headers: { 'Upstash-Cron': '* * * * *', ...headers } },
      ]);
    }
    for (const [method, path, init] of refused) {
      const response = await setup.api(path, { method, ...init });
      await expectError(response, 400);
    }

    const requests: [string, string, RequestInit?][] = [];
    for (const body of garbage) {
      for (const path of ['/v2/batch', '/v2/queues', '/v2/topics/g/endpoints']) {
        requests.push(['POST', path, { body }]);
      }
      requests.push(['DELETE', '/v2/topics/g/endpoints', { body }]);
      requests.push(['POST', '/v2/keys/rotate', { body }]);
    }
    requests.push(
      ['POST', '/v2/batch', { body: JSON.stringify([{ destination: 5 }]) }],
      ['POST', '/v2/batch', { body: JSON.stringify([{ destination: dest, headers: { a: 1 } }]) }],
      ['POST', '/v2/batch', { body: JSON.stringify([{ destination: dest, body: { no: 1 } }]) }],
      [
        'POST',
        '/v2/batch',
        { body: JSON.stringify([{ destination: dest, headers: { 'bad name': 'x' } }]) },
      ],
      ['POST', '/v2/batch', { body: JSON.stringify([{ destination: dest, queue: 'bad queue' }]) }],
      ['POST', '/v2/batch', { body: JSON.stringify([null]) }],
      ['POST', '/v2/queues', { body: JSON.stringify({ queueName: 'q', parallelism: 0 }) }],
      ['POST', '/v2/queues', { body: JSON.stringify({ queueName: 'a/b' }) }],
      ['POST', '/v2/enqueue/%zz/http://127.0.0.1:1', {}],
      ['POST', '/v2/enqueue/', {}],
      ['POST', '/v2/publish/', {}],
      ['POST', '/v2/publish/%', {}],
      ['POST', '/v2/schedules/', {}],
      ['POST', '/v2/schedules/%zz/pause', {}],
      ['GET', '/v2/messages/%zz', {}],
      ['DELETE', '/v2/messages/nope', {}],
      ['DELETE', '/v2/messages?count=abc&fromDate=zz&toDate=-&responseStatus=x', {}],
      ['GET', '/v2/dlq?cursor=garbage&count=-5&fromDate=x', {}],
      ['GET', '/v2/dlq/%00', {}],
      ['DELETE', '/v2/dlq/x', {}],
      ['DELETE', '/v2/dlq?cursor=%ff&count=1e9', {}],
      ['POST', '/v2/dlq/retry?dlqIds=nope', {}],
      ['POST', '/v2/dlq/retry/nope', {}],
      ['GET', '/v2/schedules/nope', {}],
      ['DELETE', '/v2/schedules/nope', {}],
      ['PATCH', '/v2/schedules/nope/pause', {}],
      ['POST', '/v2/schedules/nope/resume', {}],
      ['GET', '/v2/queues/%%', {}],
      ['GET', '/v2/queues/bad%20name', {}],
      ['DELETE', '/v2/queues/nope', {}],
      ['POST', '/v2/queues/nope/pause', {}],
      ['GET', '/v2/topics/nope', {}],
      ['DELETE', '/v2/topics/nope', {}],
      ['DELETE', '/v2/topics/bad%20name/endpoints', { body: '{"endpoints":[{"url":"x"}]}' }],
      ['GET', '/v2/events?cursor=abc&count=zzz&state=NOPE', {}],
      ['GET', '/v2/logs?cursor=-1&count=100000', {}],
    );

    for (const [method, path, init] of requests) {
      const response = await setup.api(path, { method, ...init });
      const label = `${method} ${path} ${JSON.stringify(init ?? {})}`;
      expect(response.status, label).toBeLessThan(500);
      if (response.status >= 400 && response.status !== 405) {
        const body = await response.json().catch(() => undefined);
        expect(body, label).toEqual({ error: expect.any(String) });
      } else await response.body?.cancel();
    }

    // Still serving, and nothing from the rejected requests was published or scheduled.
    expect(await setup.client.schedules.list()).toEqual([]);
    const { messageId } = await setup.client.publish({ url: destination.url, body: 'still alive' });
    const delivered = await destination.waitFor(1);
    expect(delivered.map((r) => r.body.toString())).toEqual(['still alive']);
    expect(delivered[0]?.headers['upstash-message-id']).toBe(messageId);
  });
});
