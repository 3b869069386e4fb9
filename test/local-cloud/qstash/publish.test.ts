import { Receiver } from '@upstash/qstash';
import { describe, expect, it } from 'vitest';
import {
  type Destination,
  eventually,
  freshServiceAndDestination,
  header,
  type Setup,
  sleep,
  startDestination,
} from './harness.ts';

let setup: Setup;
let destination: Destination;

freshServiceAndDestination((s, d) => {
  setup = s;
  destination = d;
});

describe('publish', () => {
  it('delivers method, body, forwarded headers and QStash headers to the destination', async () => {
    const url = `${destination.url}/hook?x=1`;
    const result = await setup.client.publish({
      url,
      body: 'hello world',
      method: 'PUT',
      headers: { 'Content-Type': 'text/plain', 'X-Custom': 'custom-value' },
    });
    expect(Object.keys(result)).toEqual(['messageId']);
    expect(result.messageId).toMatch(/^msg_/);

    const [request] = await destination.waitFor(1);
    expect(request?.method).toBe('PUT');
    expect(request?.path).toBe('/hook?x=1');
    expect(request?.body.toString()).toBe('hello world');
    expect(header(request, 'x-custom')).toBe('custom-value');
    expect(header(request, 'upstash-forward-x-custom')).toBeUndefined();
    expect(header(request, 'content-type')).toBe('text/plain');
    expect(header(request, 'upstash-message-id')).toBe(result.messageId);
    expect(header(request, 'upstash-retried')).toBe('0');
    expect(header(request, 'user-agent')).toBe('Upstash-QStash');
    expect(header(request, 'authorization')).toBeUndefined();

    const receiver = new Receiver({
      currentSigningKey: setup.service.currentSigningKey,
      nextSigningKey: setup.service.nextSigningKey,
    });
    await expect(
      receiver.verify({
        signature: header(request, 'upstash-signature') ?? '',
        body: 'hello world',
        url,
      }),
    ).resolves.toBe(true);
  });

  it('publishJSON sends a JSON body with application/json', async () => {
    await setup.client.publishJSON({ url: destination.url, body: { hello: 'world', n: 1 } });
    const [request] = await destination.waitFor(1);
    expect(request?.method).toBe('POST');
    expect(header(request, 'content-type')).toBe('application/json');
    expect(JSON.parse(request?.body.toString() ?? '')).toEqual({ hello: 'world', n: 1 });
  });

  it('sends a GET without a body', async () => {
    await setup.client.publish({ url: destination.url, method: 'GET' });
    const [request] = await destination.waitFor(1);
    expect(request?.method).toBe('GET');
    expect(request?.body.length).toBe(0);
  });

  it('holds a delayed message until its delay and shows it as pending meanwhile', async () => {
    const published = Date.now();
    const { messageId } = await setup.client.publish({
      url: destination.url,
      body: 'later',
      delay: 1,
    });
    const message = await setup.client.messages.get(messageId);
    expect(message.messageId).toBe(messageId);
    expect(message.url).toBe(destination.url);
    expect(message.body).toBe('later');
    expect(message.notBefore).toBeGreaterThanOrEqual(published + 1000);
    await sleep(300);
    expect(destination.requests).toHaveLength(0);
    const [request] = await destination.waitFor(1, 3000);
    expect(request?.at).toBeGreaterThanOrEqual(published + 1000);
    // Delivered messages are gone, as in QStash.
    await eventually(() =>
      expect(setup.client.messages.get(messageId)).rejects.toMatchObject({ status: 404 }),
    );
  });

  it('honours Upstash-Not-Before (unix seconds)', async () => {
    const notBefore = Math.ceil(Date.now() / 1000) + 1;
    await setup.client.publish({ url: destination.url, notBefore });
    const [request] = await destination.waitFor(1, 3000);
    expect(request?.at).toBeGreaterThanOrEqual(notBefore * 1000);
  });

  it('deduplicates by Upstash-Deduplication-Id: same id, deduplicated, one delivery', async () => {
    const first = await setup.client.publish({
      url: destination.url,
      body: 'a',
      deduplicationId: 'order-1',
      delay: 1,
    });
    const second = await setup.client.publish({
      url: destination.url,
      body: 'b',
      deduplicationId: 'order-1',
      delay: 1,
    });
    expect(first).toEqual({ messageId: first.messageId });
    expect(second).toEqual({ messageId: first.messageId, deduplicated: true });

    const raw = await setup.api(`/v2/publish/${destination.url}`, {
      method: 'POST',
      headers: { 'Upstash-Deduplication-Id': 'order-1' },
      body: 'c',
    });
    expect(raw.status).toBe(202);
    await destination.waitFor(1, 3000);
    await sleep(200);
    expect(destination.requests).toHaveLength(1);
    expect(destination.requests[0]?.body.toString()).toBe('a');
  });

  it('deduplicates by content when Upstash-Content-Based-Deduplication is set', async () => {
    const publish = (body: string) =>
      setup.client.publish({ url: destination.url, body, contentBasedDeduplication: true });
    const one = await publish('same');
    const two = await publish('same');
    const other = await publish('different');
    expect(two).toEqual({ messageId: one.messageId, deduplicated: true });
    expect(other.messageId).not.toBe(one.messageId);
    await destination.waitFor(2);
    await sleep(100);
    expect(destination.requests.map((r) => r.body.toString()).sort()).toEqual([
      'different',
      'same',
    ]);
  });

  it('rejects a deduplication id with a colon with QStash error text', async () => {
    await expect(
      setup.client.publish({ url: destination.url, deduplicationId: 'a:b' }),
    ).rejects.toMatchObject({
      status: 400,
      message: `{"error":"DeduplicationId cannot contain ':'"}`,
    });
  });

  it('reports message details: retries, callbacks, labels, flow control, retry delay', async () => {
    const { messageId } = await setup.client.publishJSON({
      url: destination.url,
      body: { a: 1 },
      delay: 60,
      retries: 5,
      callback: `${destination.url}/cb`,
      failureCallback: `${destination.url}/fail`,
      label: ['one', 'two'],
      retryDelay: '1000 * retried',
      flowControl: { key: 'fc', parallelism: 2, rate: 5, period: '1d' },
      headers: { 'test-header': 'test-value' },
    });
    const message = await setup.client.messages.get(messageId);
    expect(message).toMatchObject({
      messageId,
      url: destination.url,
      method: 'POST',
      body: '{"a":1}',
      maxRetries: 5,
      callback: `${destination.url}/cb`,
      failureCallback: `${destination.url}/fail`,
      label: 'one',
      labels: ['one', 'two'],
      retryDelayExpression: '1000 * retried',
      flowControlKey: 'fc',
      parallelism: 2,
      rate: 5,
      period: 86_400,
      header: { 'Content-Type': ['application/json'], 'Test-Header': ['test-value'] },
    });
  });

  it('cancels one message, many messages and all messages', async () => {
    const ids = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await setup.client.publish({ url: destination.url, delay: 60 })).messageId);
    }
    const [a, b, c] = ids as [string, string, string];
    await expect(setup.client.messages.cancel(a)).resolves.toEqual({ cancelled: 1 });
    await expect(setup.client.messages.get(a)).rejects.toMatchObject({ status: 404 });
    await expect(setup.client.messages.cancel(a)).rejects.toMatchObject({ status: 404 });
    await expect(setup.client.messages.cancel([b, c])).resolves.toEqual({ cancelled: 2 });
    await expect(setup.client.messages.cancel({ all: true })).resolves.toEqual({ cancelled: 2 });
    await expect(setup.client.messages.cancel({ all: true })).resolves.toEqual({ cancelled: 0 });
  });

  it('cancels by filter, matching any of the values of a filter', async () => {
    for (const path of ['/a', '/b', '/c']) {
      await setup.client.publish({
        url: `${destination.url}${path}`,
        delay: 60,
        label: path.slice(1),
      });
    }
    await expect(setup.client.messages.cancel({ filter: { path: ['/a', '/b'] } })).resolves.toEqual(
      { cancelled: 2 },
    );
    await expect(setup.client.messages.cancel({ filter: { label: 'c' } })).resolves.toEqual({
      cancelled: 1,
    });
  });
});

describe('batch', () => {
  it('publishes every message of a batch and answers one result per message', async () => {
    const results = await setup.client.batchJSON([
      { url: `${destination.url}/one`, body: { n: 1 } },
      { url: `${destination.url}/two`, body: { n: 2 }, method: 'PUT' },
    ]);
    expect(results).toHaveLength(2);
    const requests = await destination.waitFor(2);
    const byPath = Object.fromEntries(requests.map((r) => [r.path, r]));
    expect(JSON.parse(byPath['/one']?.body.toString() ?? '')).toEqual({ n: 1 });
    expect(byPath['/two']?.method).toBe('PUT');
    expect(header(byPath['/two'], 'content-type')).toBe('application/json');
    expect(header(byPath['/two'], 'upstash-message-id')).toBe(results[1]?.messageId);
  });

  it('rejects the whole batch when one entry is invalid', async () => {
    await expect(
      setup.client.batch([
        { url: destination.url, body: 'fine' },
        { url: 'https://example.com/', body: 'not loopback' },
      ]),
    ).rejects.toMatchObject({ status: 400 });
    await sleep(100);
    expect(destination.requests).toHaveLength(0);
  });
});

describe('queues', () => {
  it('delivers an enqueued queue one message at a time, in order, with parallelism 1', async () => {
    await destination.close();
    destination = await startDestination(() => ({ delayMs: 50 }));
    const queue = setup.client.queue({ queueName: 'jobs' });
    for (let i = 0; i < 4; i++) await queue.enqueueJSON({ url: destination.url, body: { i } });
    const requests = await destination.waitFor(4);
    expect(requests.map((r) => JSON.parse(r.body.toString()).i)).toEqual([0, 1, 2, 3]);
    expect(destination.maxActive).toBe(1);
    await eventually(async () => expect((await queue.get()).lag).toBe(0));
  });

  it('runs up to `parallelism` messages at once and holds them while paused', async () => {
    await destination.close();
    destination = await startDestination(() => ({ delayMs: 100 }));
    const queue = setup.client.queue({ queueName: 'wide' });
    await queue.upsert({ parallelism: 3, paused: true });
    for (let i = 0; i < 6; i++) await queue.enqueue({ url: destination.url, body: `${i}` });
    await sleep(150);
    expect(destination.requests).toHaveLength(0);
    expect(await queue.get()).toMatchObject({ name: 'wide', parallelism: 3, paused: true, lag: 6 });
    await queue.resume();
    await destination.waitFor(6);
    expect(destination.maxActive).toBe(3);
    expect((await queue.list()).map((q) => q.name).sort()).toEqual(['wide']);
    await queue.delete();
    await expect(queue.get()).rejects.toMatchObject({ status: 404 });
  });
});

describe('url groups', () => {
  it('fans a publish out to every endpoint of the group', async () => {
    await setup.client.urlGroups.addEndpoints({
      name: 'fanout',
      endpoints: [{ name: 'first', url: `${destination.url}/1` }, { url: `${destination.url}/2` }],
    });
    const group = await setup.client.urlGroups.get('fanout');
    expect(group.endpoints).toEqual([
      { name: 'first', url: `${destination.url}/1` },
      { url: `${destination.url}/2` },
    ]);
    const results = await setup.client.publish({ urlGroup: 'fanout', body: 'hi' });
    expect(results.map((r) => r.url).sort()).toEqual([
      `${destination.url}/1`,
      `${destination.url}/2`,
    ]);
    const requests = await destination.waitFor(2);
    expect(requests.map((r) => header(r, 'upstash-topic-name'))).toEqual(['fanout', 'fanout']);

    await setup.client.urlGroups.removeEndpoints({
      name: 'fanout',
      endpoints: [{ name: 'first' }],
    });
    expect((await setup.client.urlGroups.get('fanout')).endpoints).toHaveLength(1);
    await setup.client.urlGroups.delete('fanout');
    await expect(setup.client.urlGroups.list()).resolves.toEqual([]);
    await expect(setup.client.publish({ urlGroup: 'fanout' })).rejects.toMatchObject({
      status: 404,
    });
  });
});

describe('logs', () => {
  it('records the life of a message, newest first, filterable by message id', async () => {
    const { messageId } = await setup.client.publish({ url: destination.url, body: 'x' });
    await destination.waitFor(1);
    const logs = await eventually(async () => {
      const result = await setup.client.logs({ filter: { messageId } });
      expect(result.logs.map((log) => log.state)).toEqual(['DELIVERED', 'ACTIVE', 'CREATED']);
      return result;
    });
    expect(logs.logs[0]).toMatchObject({ messageId, url: destination.url });
  });
});
