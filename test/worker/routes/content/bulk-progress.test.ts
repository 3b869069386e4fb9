import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContentWrite } from '../../../../shared/content/writes.ts';
import { newId } from '../../../../shared/ids.ts';
import type { Envelope } from '../../../../shared/messages.ts';
import { bearer, createMember, createTenant, tokenFor } from '../../auth.ts';
import { deliver, recordingQueue } from '../../consumers/deliver.ts';
import { call, eventually, untilQuiet } from '../../helpers.ts';

afterAll(() => untilQuiet(), 40_000);

type Write = Envelope<{ bulk_id?: string; operation_id: string }>;
type Heard = { type: string; offset?: number; event?: { id: string; type: string; data: unknown } };

let auth: Record<string, string>;

beforeAll(async () => {
  const { orgId } = await createTenant('content-bulk-progress');
  auth = bearer((await tokenFor(await createMember(orgId, 'editor'))).token);
});

/** A bulk request whose `WRITES` messages are held, for the test to deliver by hand. */
async function heldBulk(items: unknown[]) {
  const writes = recordingQueue<Write>('WRITES', { hold: true });
  const response = await call(
    '/v1/content/bulk',
    {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ items }),
    },
    { WRITES: writes.queue },
  );
  expect(response.status, await response.clone().text()).toBe(202);
  const { operation } = (await response.json()) as { operation: { id: string; url: string } };
  return { operation, channel: `operation:${operation.id}`, sent: writes.sent };
}

/** Delivers writes to the consumer as one batch; the content events it sends are held. */
const persist = (messages: Write[]) =>
  deliver('sift-writes', messages, {
    overrides: { JOBS: recordingQueue('JOBS', { hold: true }).queue },
  });

/** The channel's last offset: how many events were published to it. */
async function offsetOf(channel: string) {
  const response = await call(`/v1/realtime/channels/${encodeURIComponent(channel)}/presence`, {
    headers: auth,
  });
  expect(response.status, await response.clone().text()).toBe(200);
  return ((await response.json()) as { offset: number }).offset;
}

const titled = (title: string) => ({ op: 'create', data: { translations: { en: { title } } } });

describe('bulk request progress on operation:<id>', () => {
  it('is heard by a client watching the channel as the items are persisted, then the end', async () => {
    const { operation, channel, sent } = await heldBulk([
      titled('Progress one'),
      titled('Progress two'),
      { op: 'create', data: {} },
      titled('Progress three'),
    ]);
    expect(sent.map((m) => m.payload.bulk_id)).toEqual([operation.id, operation.id, operation.id]);

    // The bulk operation is the organisation's (its ledger's, not Postgres'): a ticket for it.
    const issued = await call('/v1/realtime/tickets', {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ channels: [channel] }),
    });
    expect(issued.status, await issued.clone().text()).toBe(201);
    const { ticket } = (await issued.json()) as { ticket: string };
    const params = new URLSearchParams({ channel, ticket, since: '0' });
    const ws = (await call(`/v1/realtime/connect?${params}`, { headers: { Upgrade: 'websocket' } }))
      .webSocket!;
    const heard: Heard[] = [];
    ws.addEventListener('message', (e) => {
      heard.push(JSON.parse(e.data as string) as Heard);
    });
    ws.accept();

    await persist([sent[0]!]);
    await persist([sent[1]!, sent[2]!]);
    // Redelivered: the same states, published already.
    await persist([sent[1]!, sent[2]!]);

    const events = await eventually(async () => {
      const got = heard.filter((m) => m.type === 'event').map((m) => m.event!);
      return got.some((e) => e.type === 'operation.completed') && got;
    });
    expect(await offsetOf(channel)).toBe(3);
    expect(events.map((e) => e.type)).toEqual([
      'operation.progress',
      'operation.progress',
      'operation.completed',
    ]);
    const done = events.map((e) => (e.data as { progress: { done: number } }).progress.done);
    expect(done).toEqual([1, 3, 3]);
    expect(events[0]!.data).toMatchObject({
      status: 'running',
      progress: { total: 4, accepted: 3, refused: 1, applied: 1, pending: 2 },
    });

    const read = await call(operation.url, { headers: auth });
    const final = (await read.json()) as { status: string; progress: unknown };
    expect(final.status).toBe('partially_applied');
    expect(events[2]!.data).toEqual({ status: final.status, progress: final.progress });
    expect(events[1]!.data).toEqual(events[2]!.data);
    ws.close(1000);
  });

  it('publishes nothing when nobody watches', async () => {
    const { operation, channel, sent } = await heldBulk([titled('Unwatched one'), titled('Two')]);
    await persist(sent);
    const read = await call(operation.url, { headers: auth });
    expect(await read.json()).toMatchObject({ status: 'applied', progress: { done: 2 } });
    expect(await offsetOf(channel)).toBe(0);
  });

  it('takes write messages with or without a bulk id, and only an operation id as one', () => {
    const write = {
      operation_id: newId('operation'),
      org_id: newId('organization'),
      content_id: newId('content'),
      version: 1,
      action: 'create',
      snapshot: null,
      actor_id: null,
      occurred_at: new Date().toISOString(),
    };
    expect(ContentWrite.safeParse(write).success).toBe(true);
    expect(ContentWrite.safeParse({ ...write, bulk_id: newId('operation') }).success).toBe(true);
    expect(ContentWrite.safeParse({ ...write, bulk_id: newId('content') }).success).toBe(false);
  });
});
