import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type Destination,
  eventually,
  header,
  type Setup,
  sleep,
  startDestination,
  startService,
} from './harness.ts';

let dataDir: string;
const running: Setup[] = [];
const destinations: Destination[] = [];

async function start(options: Parameters<typeof startService>[0] = {}) {
  const setup = await startService({ dataDir, token: 'persist-token', ...options });
  running.push(setup);
  return setup;
}

async function destinationWith(...args: Parameters<typeof startDestination>) {
  const destination = await startDestination(...args);
  destinations.push(destination);
  return destination;
}

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'qstash-'));
});

afterEach(async () => {
  for (const setup of running.splice(0)) await setup.service.close();
  for (const destination of destinations.splice(0)) await destination.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('persistence with dataDir', () => {
  it('keeps schedules, pending messages, the DLQ, queues and URL groups across a restart', async () => {
    const failing = await destinationWith(() => ({ status: 500 }));
    const first = await start();
    const { scheduleId } = await first.client.schedules.create({
      destination: failing.url,
      cron: '0 12 * * *',
      body: 'noon',
    });
    const { messageId: pending } = await first.client.publish({
      url: failing.url,
      body: 'later',
      delay: 3600,
    });
    const { messageId: dead } = await first.client.publish({ url: failing.url, retries: 0 });
    await eventually(async () =>
      expect((await first.client.dlq.listMessages()).messages).toHaveLength(1),
    );
    await first.client.queue({ queueName: 'kept' }).upsert({ parallelism: 2 });
    await first.client.urlGroups.addEndpoints({ name: 'group', endpoints: [{ url: failing.url }] });
    await first.service.close();

    const files = await readdir(dataDir);
    expect(files).toEqual(['qstash.json']);
    expect(JSON.parse(await readFile(join(dataDir, 'qstash.json'), 'utf8')).version).toBe(1);

    const second = await start();
    expect((await second.client.schedules.get(scheduleId)).body).toBe('noon');
    expect((await second.client.messages.get(pending)).body).toBe('later');
    expect((await second.client.dlq.listMessages()).messages.map((m) => m.messageId)).toEqual([
      dead,
    ]);
    expect(await second.client.queue({ queueName: 'kept' }).get()).toMatchObject({
      parallelism: 2,
    });
    expect((await second.client.urlGroups.get('group')).endpoints).toEqual([{ url: failing.url }]);
  });

  it('on close() aborts an in-flight delivery and delivers it after the restart', async () => {
    // The first request never gets an answer; the retry after the restart succeeds.
    const destination = await destinationWith((index) => (index === 0 ? { hang: true } : {}));
    const first = await start();
    const { messageId } = await first.client.publish({ url: destination.url, body: 'in flight' });
    await destination.waitFor(1);

    const closing = Date.now();
    await first.service.close();
    expect(Date.now() - closing).toBeLessThan(1000);

    const second = await start();
    const requests = await destination.waitFor(2);
    expect(header(requests[1], 'upstash-message-id')).toBe(messageId);
    // The aborted attempt was not a failure: the message starts over, not as a retry.
    expect(header(requests[1], 'upstash-retried')).toBe('0');
    expect(requests[1]?.body.toString()).toBe('in flight');
    await eventually(async () =>
      expect(second.client.messages.get(messageId)).rejects.toMatchObject({ status: 404 }),
    );
    expect((await second.client.dlq.listMessages()).messages).toHaveLength(0);
  });

  it('resumes a retrying message with its retry count', async () => {
    const destination = await destinationWith((index) => ({ status: index === 0 ? 500 : 200 }));
    const first = await start({ retryBackoff: () => 400 });
    const { messageId } = await first.client.publish({ url: destination.url });
    await destination.waitFor(1);
    await eventually(async () =>
      expect(
        (await first.client.logs({ filter: { messageId, state: 'RETRY' } })).logs,
      ).toHaveLength(1),
    );
    await first.service.close();
    await start();
    const requests = await destination.waitFor(2, 3000);
    expect(header(requests[1], 'upstash-retried')).toBe('1');
  });
});

describe('close()', () => {
  it('stops message and schedule timers', async () => {
    const destination = await destinationWith();
    const setup = await startService();
    running.push(setup);
    await setup.client.publish({ url: destination.url, delay: 1 });
    await setup.client.schedules.create({ destination: destination.url, cron: '@every 1s' });
    await setup.service.close();
    await setup.service.close(); // idempotent
    await sleep(1300);
    expect(destination.requests).toHaveLength(0);
  });

  it('keeps nothing on disk without dataDir', async () => {
    const setup = await startService();
    running.push(setup);
    await setup.client.publish({ url: 'http://127.0.0.1:1/x', delay: 60 });
    await setup.service.close();
    expect(await readdir(dataDir)).toEqual([]);
  });
});
