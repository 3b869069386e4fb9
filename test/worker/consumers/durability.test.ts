import { inArray } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../../shared/auth/api-keys.ts';
import { apiKeys } from '../../../shared/db/schema/auth.ts';
import { content, contentVersions } from '../../../shared/db/schema/content.ts';
import { newId } from '../../../shared/ids.ts';
import { resetBreakers } from '../../../shared/resilience/circuit-breaker.ts';
import { bearer, createTenant } from '../auth.ts';
import { call, DEAD_DATABASE_URL, testDb } from '../helpers.ts';
import { deliver, recordingDlq } from './deliver.ts';

afterEach(() => resetBreakers());

/** A deterministic PRNG (mulberry32), so a failing run can be replayed with its seed. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A WRITES queue that keeps what it is given (the test plays the queue), never delivering. */
function heldQueue() {
  const held: unknown[] = [];
  const queue = {
    send: async (body: unknown) => {
      held.push(body);
    },
    sendBatch: async (messages: Iterable<MessageSendRequest>) => {
      for (const m of messages) held.push(m.body);
    },
  };
  return { held, queue };
}

async function inParallel<T>(count: number, width: number, task: (i: number) => Promise<T>) {
  const out: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await task(i);
      }
    }),
  );
  return out;
}

const ITEMS = 40;
const WRITES = 2_000;
const SEED = Number(process.env.DURABILITY_SEED ?? 20261122);

describe('durability of acknowledged writes', () => {
  it('Postgres ends with exactly the acknowledged versions, through failing and repeated batches', async () => {
    const random = prng(SEED);
    const { orgId } = await createTenant('durability');
    // An API key with a limit of its own, high enough for the test's burst of writes.
    const { secret, prefix, hash } = await generateApiKey('test');
    await testDb()
      .insert(apiKeys)
      .values({
        id: newId('apiKey'),
        orgId,
        name: 'durability',
        prefix,
        hash,
        scopes: ['content:read', 'content:write'],
        rateLimit: 100_000,
        rateLimitWindowSeconds: 60,
      });
    const auth = { ...bearer(secret), 'Content-Type': 'application/json' };
    const writes = heldQueue();
    const overrides = { WRITES: writes.queue };

    // The items, then thousands of concurrent edits; a quarter of them conditional on a version
    // guessed at random (many are stale: 412, not acknowledged).
    const acknowledged = new Map<string, Set<number>>();
    const ack = (id: string, version: number) => {
      const versions = acknowledged.get(id) ?? new Set<number>();
      versions.add(version);
      acknowledged.set(id, versions);
    };
    const ids = await inParallel(ITEMS, 10, async (i) => {
      const response = await call(
        '/v1/content',
        {
          method: 'POST',
          headers: auth,
          body: JSON.stringify({ translations: { en: { title: `Durable ${i}` } } }),
        },
        overrides,
      );
      expect(response.status).toBe(202);
      const { content: item } = (await response.json()) as {
        content: { id: string; version: number };
      };
      ack(item.id, item.version);
      return item.id;
    });
    const plan = Array.from({ length: WRITES }, (_, i) => ({
      id: ids[Math.floor(random() * ITEMS)]!,
      conditional: random() < 0.25,
      guess: 1 + Math.floor(random() * 50),
      n: i,
    }));
    const statuses = await inParallel(WRITES, 32, async (i) => {
      const { id, conditional, guess, n } = plan[i]!;
      const response = await call(
        `/v1/content/${id}`,
        {
          method: 'PATCH',
          headers: { ...auth, ...(conditional ? { 'If-Match': String(guess) } : {}) },
          body: JSON.stringify({ metadata: { [`w${n}`]: n } }),
        },
        overrides,
      );
      if (response.status === 202) {
        const { content: item } = (await response.json()) as { content: { version: number } };
        ack(id, item.version);
      }
      return response.status;
    });
    expect(new Set(statuses)).toEqual(new Set([202, 412]));
    const accepted = [...acknowledged.values()].reduce((n, s) => n + s.size, 0);
    expect(writes.held).toHaveLength(accepted);

    // The queue: batches of 1 to 100 in shuffled order; a fifth of them fail (Postgres down) and
    // are redelivered later; a tenth of the successful ones are delivered again (acks lost).
    const dlq = recordingDlq('WRITES_DLQ');
    let queue = [...writes.held].sort(() => random() - 0.5);
    let failedBatches = 0;
    let repeatedBatches = 0;
    for (let round = 0; queue.length > 0 && round < 1_000; round++) {
      const size = 1 + Math.floor(random() * 100);
      const batch = queue.slice(0, size);
      queue = queue.slice(size);
      const failing = random() < 0.2;
      const { result, batch: delivered } = await deliver('sift-writes', batch, {
        overrides: {
          WRITES_DLQ: dlq.queue,
          ...(failing ? { DATABASE_URL: DEAD_DATABASE_URL } : {}),
        } as Partial<Env>,
      });
      resetBreakers();
      const retried = new Set(result.retryMessages.map((r) => r.msgId));
      if (result.retryBatch.retry) for (const m of delivered.messages) retried.add(m.id);
      const again = delivered.messages.filter((m) => retried.has(m.id)).map((m) => m.body);
      if (failing) {
        failedBatches++;
        expect(again).toHaveLength(batch.length);
      }
      // Redelivered at a random later place, as the queue does after the retry delay.
      for (const body of again) queue.splice(Math.floor(random() * (queue.length + 1)), 0, body);
      if (!failing && random() < 0.1) {
        repeatedBatches++;
        await deliver('sift-writes', batch, {
          overrides: { WRITES_DLQ: dlq.queue } as Partial<Env>,
        });
      }
    }
    expect(queue).toEqual([]);
    expect(failedBatches).toBeGreaterThan(0);
    expect(repeatedBatches).toBeGreaterThan(0);
    expect(dlq.sent).toEqual([]);

    const rows = await testDb()
      .select({ id: contentVersions.contentId, version: contentVersions.version })
      .from(contentVersions)
      .where(inArray(contentVersions.contentId, ids));
    const persisted = new Map<string, number[]>();
    for (const row of rows) persisted.set(row.id, [...(persisted.get(row.id) ?? []), row.version]);
    for (const id of ids) {
      const expected = [...acknowledged.get(id)!].sort((a, b) => a - b);
      expect(
        persisted.get(id)?.sort((a, b) => a - b),
        id,
      ).toEqual(expected);
      // No gaps: versions are handed out one by one.
      expect(expected).toEqual(expected.map((_, i) => i + 1));
    }
    const items = await testDb().select().from(content).where(inArray(content.id, ids));
    for (const item of items) expect(item.version).toBe(acknowledged.get(item.id)!.size);
  }, 300_000);
});
