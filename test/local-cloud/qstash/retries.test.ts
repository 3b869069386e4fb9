import { afterEach, describe, expect, it } from 'vitest';
import { defaultRetryBackoff } from '../../../tools/local-cloud/qstash/index.ts';
import {
  type Destination,
  eventually,
  header,
  type Setup,
  sleep,
  startDestination,
  startService,
} from './harness.ts';

let setup: Setup | undefined;
const destinations: Destination[] = [];

async function destinationWith(...args: Parameters<typeof startDestination>) {
  const destination = await startDestination(...args);
  destinations.push(destination);
  return destination;
}

afterEach(async () => {
  await setup?.service.close();
  setup = undefined;
  for (const destination of destinations.splice(0)) await destination.close();
});

describe('default backoff', () => {
  it('is QStash’s min(86400, e ** (2.5 * n)) seconds before retry n', () => {
    expect(defaultRetryBackoff(1)).toBeCloseTo(12_182.49, 1); // 12s
    expect(defaultRetryBackoff(2)).toBeCloseTo(148_413.16, 1); // 2m28s
    expect(defaultRetryBackoff(3)).toBeCloseTo(1_808_042.41, 1); // 30m8s
    expect(defaultRetryBackoff(4)).toBeCloseTo(22_026_465.79, 1); // 6h7m6s
    expect(defaultRetryBackoff(5)).toBe(86_400_000); // capped at a day
    expect(defaultRetryBackoff(6)).toBe(86_400_000);
  });

  it('is what the service uses when no backoff is injected', async () => {
    setup = await startService({ retryBackoff: undefined });
    const destination = await destinationWith(() => ({ status: 500 }));
    const started = Date.now();
    const { messageId } = await setup.client.publish({ url: destination.url, retries: 2 });
    await destination.waitFor(1);
    const message = await eventually(async () => {
      const found = await setup?.client.messages.get(messageId);
      expect(found?.notBefore).toBeDefined();
      return found;
    });
    expect(message?.maxRetries).toBe(2);
    const retry = await eventually(async () => {
      const logs = await setup?.client.logs({ filter: { messageId, state: 'RETRY' } });
      expect(logs?.logs).toHaveLength(1);
      return logs?.logs[0];
    });
    // The first retry waits e^2.5 s ≈ 12.2 s.
    expect(retry?.nextDeliveryTime).toBeGreaterThanOrEqual(started + 12_000);
    expect(retry?.nextDeliveryTime).toBeLessThan(Date.now() + 12_300);
  });
});

describe('retries', () => {
  it('retries non-2xx answers with Upstash-Retried counting up, until one succeeds', async () => {
    setup = await startService();
    const destination = await destinationWith((i) => ({ status: i < 2 ? 503 : 200 }));
    const { messageId } = await setup.client.publish({ url: destination.url, body: 'x' });
    const requests = await destination.waitFor(3);
    expect(requests.map((r) => header(r, 'upstash-retried'))).toEqual(['0', '1', '2']);
    expect(new Set(requests.map((r) => header(r, 'upstash-message-id')))).toEqual(
      new Set([messageId]),
    );
    // Each retry waited for the injected backoff.
    for (let i = 1; i < 3; i++) {
      expect((requests[i]?.at ?? 0) - (requests[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(15);
    }
    await sleep(100);
    expect(destination.requests).toHaveLength(3);
    expect((await setup.client.dlq.listMessages()).messages).toHaveLength(0);
  });

  it('makes 1 + 3 attempts by default, then moves the message to the DLQ', async () => {
    setup = await startService();
    const destination = await destinationWith(() => ({ status: 500, body: 'broken' }));
    const { messageId } = await setup.client.publish({ url: destination.url, body: 'x' });
    await destination.waitFor(4);
    const dlq = await eventually(async () => {
      const list = await setup?.client.dlq.listMessages();
      expect(list?.messages).toHaveLength(1);
      return list;
    });
    await sleep(100);
    expect(destination.requests).toHaveLength(4);
    expect(dlq?.messages[0]).toMatchObject({
      messageId,
      url: destination.url,
      maxRetries: 3,
      responseStatus: 500,
      responseBody: 'broken',
    });
    expect(dlq?.messages[0]?.dlqId).toMatch(/^\d+-\d+$/);
  });

  it('counts a timeout as a failure', async () => {
    setup = await startService({ deliveryTimeoutMs: 150 });
    const destination = await destinationWith((i) => (i === 0 ? { delayMs: 1000 } : {}));
    await setup.client.publish({ url: destination.url, retries: 1 });
    const requests = await destination.waitFor(2, 3000);
    expect(requests.map((r) => header(r, 'upstash-retried'))).toEqual(['0', '1']);
    expect((requests[1]?.at ?? 0) - (requests[0]?.at ?? 0)).toBeGreaterThanOrEqual(150);
  });

  it('applies Upstash-Timeout below the service ceiling', async () => {
    setup = await startService();
    const destination = await destinationWith(() => ({ delayMs: 2000 }));
    const { messageId } = await setup.client.publish({
      url: destination.url,
      timeout: '1s',
      retries: 0,
    });
    const entry = await eventually(async () => {
      const list = await setup?.client.dlq.listMessages({ filter: { messageId } });
      expect(list?.messages).toHaveLength(1);
      return list?.messages[0];
    }, 3000);
    expect(entry?.responseStatus).toBeUndefined();
  });

  it('uses an Upstash-Retry-Delay expression instead of the backoff', async () => {
    setup = await startService({ retryBackoff: () => 60_000 });
    const destination = await destinationWith((i) => ({ status: i < 2 ? 500 : 200 }));
    await setup.client.publish({ url: destination.url, retryDelay: '100 * (retried + 1)' });
    const requests = await destination.waitFor(3, 3000);
    const first = (requests[1]?.at ?? 0) - (requests[0]?.at ?? 0);
    const second = (requests[2]?.at ?? 0) - (requests[1]?.at ?? 0);
    expect(first).toBeGreaterThanOrEqual(95);
    expect(second).toBeGreaterThanOrEqual(195);
  });

  it('follows a Retry-After answer', async () => {
    setup = await startService({ retryBackoff: () => 60_000 });
    const destination = await destinationWith((i) =>
      i === 0 ? { status: 429, headers: { 'Retry-After': '1' } } : {},
    );
    await setup.client.publish({ url: destination.url });
    const requests = await destination.waitFor(2, 3000);
    expect((requests[1]?.at ?? 0) - (requests[0]?.at ?? 0)).toBeGreaterThanOrEqual(990);
  });

  it('skips the remaining retries on 489 with Upstash-NonRetryable-Error', async () => {
    setup = await startService();
    const destination = await destinationWith(() => ({
      status: 489,
      headers: { 'Upstash-NonRetryable-Error': 'true' },
    }));
    await setup.client.publish({ url: destination.url, retries: 3 });
    await eventually(async () => {
      expect((await setup?.client.dlq.listMessages())?.messages).toHaveLength(1);
    });
    expect(destination.requests).toHaveLength(1);
  });
});

describe('callbacks', () => {
  it('calls the callback with the response, in QStash’s callback body shape', async () => {
    setup = await startService();
    const target = await destinationWith(() => ({
      status: 201,
      body: 'created!',
      headers: { 'X-Answer': '42' },
    }));
    const callback = await destinationWith();
    const { messageId } = await setup.client.publishJSON({
      url: `${target.url}/work`,
      body: { job: 1 },
      callback: `${callback.url}/done`,
      headers: { 'X-Trace': 't1' },
    });
    const [request] = await callback.waitFor(1);
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/done');
    expect(header(request, 'content-type')).toBe('application/json');
    const body = JSON.parse(request?.body.toString() ?? '');
    expect(body).toMatchObject({
      status: 201,
      retried: 0,
      maxRetries: 3,
      sourceMessageId: messageId,
      url: `${target.url}/work`,
      method: 'POST',
      sourceHeader: { 'Content-Type': ['application/json'], 'X-Trace': ['t1'] },
    });
    expect(Buffer.from(body.body, 'base64').toString()).toBe('created!');
    expect(body.header['X-Answer']).toEqual(['42']);
    expect(JSON.parse(Buffer.from(body.sourceBody, 'base64').toString())).toEqual({ job: 1 });
    expect(typeof body.createdAt).toBe('number');
    expect(header(request, 'upstash-message-id')).not.toBe(messageId);
  });

  it('calls the callback after every attempt, and the failure callback once with the dlqId', async () => {
    setup = await startService();
    const target = await destinationWith(() => ({ status: 500, body: 'nope' }));
    const callback = await destinationWith();
    const failure = await destinationWith();
    const { messageId } = await setup.client.publish({
      url: target.url,
      retries: 1,
      callback: callback.url,
      failureCallback: failure.url,
    });
    const callbacks = await callback.waitFor(2);
    expect(callbacks.map((r) => JSON.parse(r.body.toString()).retried).sort()).toEqual([0, 1]);
    const [failed] = await failure.waitFor(1);
    const body = JSON.parse(failed?.body.toString() ?? '');
    const dlq = await setup.client.dlq.listMessages();
    expect(body).toMatchObject({
      status: 500,
      retried: 1,
      maxRetries: 1,
      sourceMessageId: messageId,
      dlqId: dlq.messages[0]?.dlqId,
    });
    expect(Buffer.from(body.body, 'base64').toString()).toBe('nope');
    await sleep(100);
    expect(failure.requests).toHaveLength(1);
  });

  it('forwards Upstash-Callback-Forward-* headers to the callback only', async () => {
    setup = await startService();
    const target = await destinationWith();
    const callback = await destinationWith();
    await setup.api(`/v2/publish/${target.url}`, {
      method: 'POST',
      headers: {
        'Upstash-Callback': callback.url,
        'Upstash-Callback-Forward-Authorization': 'Bearer cb',
      },
      body: 'x',
    });
    const [request] = await callback.waitFor(1);
    expect(header(request, 'authorization')).toBe('Bearer cb');
    expect(header(target.requests[0], 'authorization')).toBeUndefined();
  });
});
