import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type Destination,
  eventually,
  header,
  type Setup,
  startDestination,
  startService,
} from './harness.ts';

let setup: Setup;
let failing: Destination;
let healthy: Destination;
/** While true the `failing` destination answers 500; tests flip it to let retries succeed. */
let broken = true;

beforeEach(async () => {
  broken = true;
  setup = await startService();
  failing = await startDestination(() => ({ status: broken ? 500 : 200, body: 'down' }));
  healthy = await startDestination();
});

afterEach(async () => {
  await setup.service.close();
  await failing.close();
  await healthy.close();
});

/** Publishes messages that fail at once (no retries) and waits until all are in the DLQ. */
async function deadLetters(
  count: number,
  extra: { path?: string; label?: string } = {},
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const { messageId } = await setup.client.publish({
      url: `${failing.url}${extra.path ?? `/m${i}`}`,
      body: `body-${i}`,
      retries: 0,
      label: extra.label,
    });
    ids.push(messageId);
  }
  await eventually(async () => {
    const all = await setup.client.dlq.listMessages();
    expect(all.messages.filter((m) => ids.includes(m.messageId))).toHaveLength(count);
  });
  return ids;
}

describe('DLQ', () => {
  it('lists, filters and pages DLQ messages with a cursor', async () => {
    const ids = await deadLetters(5);
    // The DLQ lists in the order messages died; deliveries run concurrently, so that need not be
    // the order they were published in. The pages must walk the whole list in its own order.
    const order = (await setup.client.dlq.listMessages()).messages.map((m) => m.messageId);
    expect([...order].sort()).toEqual([...ids].sort());
    const first = await setup.client.dlq.listMessages({ count: 2 });
    expect(first.messages.map((m) => m.messageId)).toEqual(order.slice(0, 2));
    expect(first.cursor).toBeDefined();
    const second = await setup.client.dlq.listMessages({ count: 2, cursor: first.cursor });
    expect(second.messages.map((m) => m.messageId)).toEqual(order.slice(2, 4));
    const third = await setup.client.dlq.listMessages({ count: 2, cursor: second.cursor });
    expect(third.messages.map((m) => m.messageId)).toEqual(order.slice(4));
    expect(third.cursor).toBeUndefined();

    const byMessage = await setup.client.dlq.listMessages({ filter: { messageId: ids[3] } });
    expect(byMessage.messages.map((m) => m.messageId)).toEqual([ids[3]]);
    const byUrl = await setup.client.dlq.listMessages({
      filter: { url: [`${failing.url}/m0`, `${failing.url}/m1`] },
    });
    expect(byUrl.messages.map((m) => m.messageId)).toEqual(
      order.filter((id) => id === ids[0] || id === ids[1]),
    );
    const byStatus = await setup.client.dlq.listMessages({ filter: { responseStatus: 404 } });
    expect(byStatus.messages).toHaveLength(0);
    const byIds = await setup.client.dlq.listMessages({
      dlqIds: [first.messages[0]?.dlqId ?? ''],
    });
    expect(byIds.messages.map((m) => m.messageId)).toEqual([ids[0]]);
  });

  it('filters by label', async () => {
    await deadLetters(2, { label: 'red' });
    await deadLetters(1, { label: 'blue' });
    const red = await setup.client.dlq.listMessages({ filter: { label: 'red' } });
    expect(red.messages).toHaveLength(2);
    expect(red.messages[0]).toMatchObject({ label: 'red', labels: ['red'] });
  });

  it('gets one DLQ message by dlqId with the failed response', async () => {
    const [id] = await deadLetters(1);
    const { messages } = await setup.client.dlq.listMessages();
    const dlqId = messages[0]?.dlqId ?? '';
    const response = await setup.api(`/v2/dlq/${dlqId}`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      dlqId,
      messageId: id,
      body: 'body-0',
      responseStatus: 500,
      responseBody: 'down',
    });
    const missing = await setup.api('/v2/dlq/1-0');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: expect.any(String) });
  });

  it('retries one DLQ message as a new message and removes it from the DLQ', async () => {
    const [original] = await deadLetters(1);
    const { messages } = await setup.client.dlq.listMessages();
    const dlqId = messages[0]?.dlqId ?? '';
    broken = false;
    const result = await setup.client.dlq.retry(dlqId);
    expect(result.responses).toHaveLength(1);
    const messageId = result.responses[0]?.messageId;
    expect(messageId).toMatch(/^msg_/);
    expect(messageId).not.toBe(original);
    const delivered = await eventually(() => {
      const hit = failing.requests.find((r) => header(r, 'upstash-message-id') === messageId);
      expect(hit).toBeDefined();
      return hit;
    });
    expect(delivered?.body.toString()).toBe('body-0');
    expect((await setup.client.dlq.listMessages()).messages).toHaveLength(0);
    await expect(setup.client.dlq.retry(dlqId)).rejects.toMatchObject({ status: 404 });
  });

  it('retries many DLQ messages, by ids and with all: true', async () => {
    await deadLetters(4);
    const { messages } = await setup.client.dlq.listMessages();
    broken = false;
    const some = await setup.client.dlq.retry([messages[0]?.dlqId ?? '', messages[1]?.dlqId ?? '']);
    expect(some.responses).toHaveLength(2);
    const rest = await setup.client.dlq.retry({ all: true });
    expect(rest.responses).toHaveLength(2);
    expect(rest.cursor).toBeUndefined();
    await eventually(() => expect(failing.requests.length).toBe(8));
    expect((await setup.client.dlq.listMessages()).messages).toHaveLength(0);
  });

  it('deletes one DLQ message, then answers 404 for it', async () => {
    await deadLetters(2);
    const { messages } = await setup.client.dlq.listMessages();
    const dlqId = messages[0]?.dlqId ?? '';
    await expect(setup.client.dlq.delete(dlqId)).resolves.toEqual({ deleted: 1 });
    expect((await setup.client.dlq.listMessages()).messages).toHaveLength(1);
    await expect(setup.client.dlq.delete(dlqId)).rejects.toMatchObject({ status: 404 });
  });

  it('deletes many DLQ messages by ids, by filter and all in pages', async () => {
    await deadLetters(2, { label: 'x' });
    await deadLetters(5, { label: 'y' });
    const { messages } = await setup.client.dlq.listMessages({ filter: { label: 'x' } });
    await expect(
      setup.client.dlq.delete({ dlqIds: messages.map((m) => m.dlqId) }),
    ).resolves.toMatchObject({ deleted: 2 });
    const page = await setup.client.dlq.delete({ filter: { label: 'y' }, count: 3 });
    expect(page.deleted).toBe(3);
    expect(page.cursor).toBeDefined();
    const restOfPage = await setup.client.dlq.delete({ all: true, count: 3, cursor: page.cursor });
    expect(restOfPage).toEqual({ deleted: 2 });
    expect((await setup.client.dlq.listMessages()).messages).toHaveLength(0);
  });
});
