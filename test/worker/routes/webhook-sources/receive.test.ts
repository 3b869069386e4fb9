import { and, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import {
  auditLog,
  content,
  webhookSourceDeliveries,
  webhookSources,
} from '../../../../shared/db/schema/index.ts';
import type { PushedSourceKind } from '../../../../shared/webhook-sources/signature.ts';
import { REFUSALS_RECORDED_PER_HOUR } from '../../../../workers/api/routes/webhook-sources/receive.ts';
import {
  call,
  DEAD_DATABASE_URL,
  DEAD_URL,
  eventually,
  expectProblem,
  testDb,
  testServices,
  untilQuiet,
} from '../../helpers.ts';
import { json, signedIn } from '../keys/fixtures.ts';
import {
  createSource,
  deliver,
  deliveriesEventually,
  deliveryId,
  HMAC,
  type SourceBody,
  sourceRow,
} from './fixtures.ts';

type Receipt = {
  status: 'applied' | 'duplicate' | 'unmapped';
  delivery: string | null;
  content_id: string | null;
  operation_id: string | null;
  reason: string | null;
};
type Source = SourceBody & { secret: string };

afterAll(() => untilQuiet());

const KINDS: PushedSourceKind[] = ['standard', 'github', 'stripe', 'hmac'];

/** An upstream event, Stripe-shaped: its own id (the delivery id for Stripe), the item inside. */
const OBJECT_MAPPING = {
  external_id: '/object/id',
  title: '/object/title',
  body: '/object/body',
  locale: '/object/lang',
  event_type: '/type',
  delete_events: ['post.deleted'],
};
const event = (object: Record<string, unknown>, type = 'post.updated') => ({
  id: `evt_${deliveryId()}`,
  type,
  object,
});
const now = () => Math.floor(Date.now() / 1000);

async function receipt(response: Response, status: number): Promise<Receipt> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  return JSON.parse(text) as Receipt;
}

/** The refusal body without what differs per request. */
async function refusalBody(response: Response) {
  const problem = await expectProblem(response, 401);
  // `instance` echoes the path asked for; nothing else may differ.
  const { request_id: _, instance: __, ...rest } = problem as Record<string, unknown>;
  return rest;
}

async function readItem(auth: Record<string, string>, id: string) {
  const response = await call(`/v1/content/${id}`, { headers: auth });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe.each(KINDS)('POST /webhooks/inbound/{id}: %s', (kind) => {
  let source: Source;
  let auth: Record<string, string>;

  it('applies a well-signed delivery through the write path, as the source', async () => {
    ({ auth } = await signedIn(`whin-${kind}`));
    source = await createSource(auth, { kind, mapping: OBJECT_MAPPING });
    const response = await deliver(
      source,
      event({ id: 'post-1', title: `Hello from ${kind}`, body: 'First body', lang: 'en' }),
    );
    const body = await receipt(response, 202);
    expect(body).toMatchObject({ status: 'applied', reason: null });
    expect(body.content_id).toMatch(/^cnt_/);
    expect(body.operation_id).toMatch(/^op_/);
    const item = await readItem(auth, body.content_id!);
    expect(item.status).toBe(200);
    expect(JSON.stringify(item.body)).toContain(`Hello from ${kind}`);
    // Persisted by the consumer with the source as the actor of the version.
    const row = await eventually(async () => {
      const [r] = await testDb().select().from(content).where(eq(content.id, body.content_id!));
      return r;
    }, 20_000);
    expect(row.createdBy).toBe(source.id);
    expect(row.updatedBy).toBe(source.id);
    expect(row).toMatchObject({ sourceId: source.id, externalId: 'post-1' });
    const audited = await eventually(async () => {
      const rows = await testDb()
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.targetId, body.content_id!), eq(auditLog.action, 'content.create')));
      return rows[0];
    }, 20_000);
    expect(audited).toMatchObject({ actorType: 'webhook_source', actorId: source.id });
    const [delivery] = await deliveriesEventually(source.id, 'applied');
    expect(delivery).toMatchObject({ contentId: body.content_id, externalId: 'post-1' });
  });

  it('updates the same item for the same external id, and drops a replay as a duplicate', async () => {
    const id = deliveryId();
    const payload = event({ id: 'post-1', title: 'Updated title', lang: 'en' });
    const first = await receipt(await deliver(source, payload, { id }), 202);
    const [created] = await deliveriesEventually(source.id, 'applied');
    expect(first.content_id).toBe(created!.contentId);
    const again = await receipt(await deliver(source, payload, { id }), 200);
    expect(again.status).toBe('duplicate');
    await deliveriesEventually(source.id, 'duplicate');
    const item = await readItem(auth, first.content_id!);
    expect(item.body).toMatchObject({ version: 2 });
  });

  it('refuses a bad signature, a wrong secret and missing headers with one opaque 401, counted and audited', async () => {
    const payload = event({ id: 'post-x', title: 'Forged', lang: 'en' });
    const unknown = await refusalBody(
      await deliver({ ...source, id: 'whs_01jd5x3k7yf0v9r2m4q6s8t1wz' }, payload),
    );
    const wrongSecret = await refusalBody(
      await deliver(source, payload, { secret: 'whsec_d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldC0zMmI=' }),
    );
    const missing = await refusalBody(
      await deliver(source, payload, {
        omit: [
          'webhook-signature',
          'x-hub-signature-256',
          'stripe-signature',
          HMAC.signature_header,
        ],
      }),
    );
    expect(wrongSecret).toEqual(unknown);
    expect(missing).toEqual(unknown);
    expect(unknown).toMatchObject({
      code: 'UNAUTHORIZED',
      detail: 'The delivery was not accepted.',
    });
    const row = await eventually(async () => {
      const r = await sourceRow(source.id);
      return r.failureCount >= 2 ? r : undefined;
    });
    expect(['bad_signature', 'missing_headers']).toContain(row.lastFailureReason);
    await deliveriesEventually(source.id, 'refused', 2);
    await eventually(async () => {
      const rows = await testDb()
        .select()
        .from(auditLog)
        .where(
          and(
            eq(auditLog.targetId, source.id),
            eq(auditLog.action, 'webhook_source.delivery_refused'),
          ),
        );
      return rows.length >= 2;
    }, 20_000);
  });

  it('refuses a signature over another body', async () => {
    // Sign one body, send another with the same headers.
    const { signDelivery } = await import('../../../../shared/webhook-sources/signature.ts');
    const signedBody = JSON.stringify(event({ id: 'a', title: 'A' }));
    const headers = await signDelivery(kind, source.secret, signedBody, {
      id: deliveryId(),
      timestamp: now(),
      ...(kind === 'hmac' ? { hmac: HMAC } : {}),
    });
    const response = await call(`/webhooks/inbound/${source.id}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: signedBody.replace('"A"', '"B"'),
    });
    await expectProblem(response, 401);
  });

  if (kind !== 'github') {
    it('refuses a timestamp 6 minutes in the past or the future, and takes one 4 minutes off', async () => {
      const payload = () => event({ id: 'post-t', title: 'Timed', lang: 'en' });
      await expectProblem(await deliver(source, payload(), { timestamp: now() - 360 }), 401);
      await expectProblem(await deliver(source, payload(), { timestamp: now() + 360 }), 401);
      expect((await deliver(source, payload(), { timestamp: now() - 240 })).status).toBe(202);
      expect((await deliver(source, payload(), { timestamp: now() + 240 })).status).toBe(202);
      const row = await eventually(async () => {
        const r = await sourceRow(source.id);
        return r.lastFailureReason === 'stale_timestamp' ? r : undefined;
      });
      expect(row.failureCount).toBeGreaterThanOrEqual(4);
    });
  }
});

describe('POST /webhooks/inbound/{id}: headers', () => {
  it('refuses garbled and repeated signature headers, and verifies any of several v1 signatures', async () => {
    const { auth } = await signedIn('whin-headers');
    const source = await createSource(auth, { kind: 'standard' });
    const payload = { id: 'h-1', title: 'Headers' };
    const text = JSON.stringify(payload);
    const { signDelivery } = await import('../../../../shared/webhook-sources/signature.ts');
    const id = deliveryId();
    const ts = now();
    const good = await signDelivery('standard', source.secret, text, { id, timestamp: ts });
    const send = (headers: Record<string, string> | Headers) =>
      call(`/webhooks/inbound/${source.id}`, { method: 'POST', headers, body: text });
    for (const signature of ['v1,', 'v1,!!!notbase64', 'v2,abc', 'garbage', '']) {
      await expectProblem(await send({ ...good, 'webhook-signature': signature }), 401);
    }
    await expectProblem(await send({ ...good, 'webhook-timestamp': 'yesterday' }), 401);
    await expectProblem(await send({ ...good, 'webhook-timestamp': `${ts}.5` }), 401);
    const repeated = new Headers(good);
    repeated.append('webhook-timestamp', String(ts));
    await expectProblem(await send(repeated), 401);
    const several = {
      ...good,
      'webhook-signature': `v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= ${good['webhook-signature']}`,
    };
    expect((await send(several)).status).toBe(202);
    const row = await eventually(async () => {
      const r = await sourceRow(source.id);
      return r.failureCount >= 8 ? r : undefined;
    });
    expect(row.lastFailureReason).toBe('malformed_headers');
  });

  it('refuses a stripe header with two timestamps, and accepts several v1 values', async () => {
    const { auth } = await signedIn('whin-stripe-h');
    const source = await createSource(auth, { kind: 'stripe' });
    const text = JSON.stringify({ id: 'evt_1', title: 'Stripe' });
    const { signDelivery } = await import('../../../../shared/webhook-sources/signature.ts');
    const ts = now();
    const good = (await signDelivery('stripe', source.secret, text, { id: 'x', timestamp: ts }))[
      'Stripe-Signature'
    ]!;
    const v1 = good.split(',v1=')[1]!;
    const send = (header: string) =>
      call(`/webhooks/inbound/${source.id}`, {
        method: 'POST',
        headers: { 'Stripe-Signature': header },
        body: text,
      });
    await expectProblem(await send(`t=${ts},t=${ts},v1=${v1}`), 401);
    await expectProblem(await send(`t=${ts}`), 401);
    expect((await send(`t=${ts},v0=abc,v1=${'0'.repeat(64)},v1=${v1}`)).status).toBe(202);
    // The event id is the delivery id: the same event again is a duplicate.
    const again = await send(`t=${ts},v1=${v1}`);
    expect(((await again.json()) as Receipt).status).toBe('duplicate');
  });
});

describe('POST /webhooks/inbound/{id}: secrets', () => {
  it('verifies with the previous secret during the grace period, and not after it', async () => {
    const { auth } = await signedIn('whin-rotate');
    const source = await createSource(auth, { kind: 'github', secret: 'the-first-github-secret' });
    const rotated = await call(
      `/v1/webhooks/sources/${source.id}/rotate-secret`,
      json('POST', { secret: 'the-second-github-secret' }, auth),
    );
    expect(rotated.status).toBe(200);
    const payload = { id: 'r-1', title: 'Rotation' };
    expect((await deliver(source, payload, { secret: 'the-second-github-secret' })).status).toBe(
      202,
    );
    expect((await deliver(source, payload, { secret: 'the-first-github-secret' })).status).toBe(
      202,
    );
    // The grace period ends.
    await testDb()
      .update(webhookSources)
      .set({ previousSecretExpiresAt: new Date(Date.now() - 1_000) })
      .where(eq(webhookSources.id, source.id));
    await expectProblem(await deliver(source, payload, { secret: 'the-first-github-secret' }), 401);
    expect((await deliver(source, payload, { secret: 'the-second-github-secret' })).status).toBe(
      202,
    );
    // A rotation with no grace ends the previous secret at once.
    await call(
      `/v1/webhooks/sources/${source.id}/rotate-secret`,
      json('POST', { secret: 'the-third-github-secret', grace_seconds: 0 }, auth),
    );
    await expectProblem(
      await deliver(source, payload, { secret: 'the-second-github-secret' }),
      401,
    );
  });

  it('refuses every delivery to a disabled source, and counts it', async () => {
    const { auth } = await signedIn('whin-disabled');
    const source = await createSource(auth, { enabled: false });
    await expectProblem(await deliver(source, { id: 'd', title: 'D' }), 401);
    const row = await eventually(async () => {
      const r = await sourceRow(source.id);
      return r.failureCount === 1 ? r : undefined;
    });
    expect(row.lastFailureReason).toBe('disabled');
  });
});

describe('POST /webhooks/inbound/{id}: outages', () => {
  const refusingQueue = {
    send: async () => {
      throw new Error('Queue send failed: 503 Service Unavailable');
    },
    sendBatch: async () => {
      throw new Error('Queue sendBatch failed: 503 Service Unavailable');
    },
  };

  it('answers 503 with Retry-After when the write queue refuses, and takes the retry', async () => {
    const { auth } = await signedIn('whin-queue-down');
    const source = await createSource(auth);
    const id = deliveryId();
    const payload = { id: 'q-1', title: 'Queued later' };
    const down = await deliver(source, payload, { id, overrides: { WRITES: refusingQueue } });
    const problem = await expectProblem(down, 503);
    expect(problem.code).toBe('SERVICE_UNAVAILABLE');
    expect(down.headers.get('Retry-After')).toBeTruthy();
    await deliveriesEventually(source.id, 'failed');
    // The upstream retries the same delivery: it is taken, not dropped as a duplicate.
    const retried = await receipt(await deliver(source, payload, { id }), 202);
    expect(retried.status).toBe('applied');
    expect((await readItem(auth, retried.content_id!)).status).toBe(200);
  });

  it('answers 503 with Postgres down, and dedupes from Postgres with Redis down', async () => {
    const { auth } = await signedIn('whin-pg-down');
    const source = await createSource(auth);
    const pgDown = await deliver(
      source,
      { id: 'p-1', title: 'P' },
      { overrides: { DATABASE_URL: DEAD_DATABASE_URL } },
    );
    expect(pgDown.status).toBe(503);
    const id = deliveryId();
    const redisDown = { overrides: { UPSTASH_REDIS_REST_URL: DEAD_URL }, id };
    expect((await deliver(source, { id: 'r-1', title: 'R' }, redisDown)).status).toBe(202);
    const again = await receipt(await deliver(source, { id: 'r-1', title: 'R' }, redisDown), 200);
    expect(again.status).toBe('duplicate');
  });
});

describe('POST /webhooks/inbound/{id}: a flood of forgeries', () => {
  it('keeps counting past the hourly cap, but logs and audits no more', async () => {
    const { auth } = await signedIn('whin-flood');
    const source = await createSource(auth);
    const forged = { secret: 'whsec_Zm9yZ2VkLWZvcmdlZC1mb3JnZWQtZm9yZ2VkLTMyYg==' };
    await expectProblem(await deliver(source, { id: 'f', title: 'F' }, forged), 401);
    await deliveriesEventually(source.id, 'refused', 1);
    const hour = Math.floor(Date.now() / 3_600_000);
    await testServices().redis.set(
      `webhook-sources:refusals:${source.id}:${hour}`,
      REFUSALS_RECORDED_PER_HOUR,
      { ex: 3_600 },
    );
    await expectProblem(await deliver(source, { id: 'f', title: 'F' }, forged), 401);
    await eventually(async () => (await sourceRow(source.id)).failureCount === 2);
    await untilQuiet({ quietMs: 1_500 });
    const refused = await testDb()
      .select()
      .from(webhookSourceDeliveries)
      .where(eq(webhookSourceDeliveries.sourceId, source.id));
    expect(refused).toHaveLength(1);
  });
});

describe('POST /webhooks/inbound/{id}: rate limit', () => {
  it('counts deliveries per address and source, in the inbound class', async () => {
    const { auth } = await signedIn('whin-rate');
    const first = await createSource(auth);
    const second = await createSource(auth);
    const forged = { secret: 'whsec_Zm9yZ2VkLWZvcmdlZC1mb3JnZWQtZm9yZ2VkLTMyYg==' };
    const a = await deliver(first, { id: 'r', title: 'R' }, forged);
    await expectProblem(a, 401);
    expect(a.headers.get('RateLimit-Policy')).toBe('"inbound-ip";q=1200;w=60;sift-burst=600');
    expect(a.headers.get('RateLimit')).toMatch(/^"inbound-ip";r=599;t=\d+$/);
    // Another source from the same address has its own count.
    const b = await deliver(second, { id: 'r', title: 'R' }, forged);
    expect(b.headers.get('RateLimit')).toMatch(/^"inbound-ip";r=599;t=\d+$/);
  });
});

describe('POST /webhooks/inbound/{id}: bodies and mapping', () => {
  it('answers 413 beyond 1 MiB, and records empty and non-JSON bodies as unmapped', async () => {
    const { auth } = await signedIn('whin-bodies');
    const source = await createSource(auth);
    await expectProblem(await deliver(source, null, { raw: `"${'x'.repeat(1_048_576)}"` }), 413);
    const empty = await receipt(await deliver(source, null, { raw: '' }), 200);
    expect(empty).toMatchObject({ status: 'unmapped', reason: 'the body is empty' });
    const text = await receipt(await deliver(source, null, { raw: 'not json at all' }), 200);
    expect(text).toMatchObject({ status: 'unmapped', reason: 'the body is not UTF-8 JSON' });
    const scalar = await receipt(await deliver(source, 42), 200);
    expect(scalar.status).toBe('unmapped');
    const log = await call(`/v1/webhooks/sources/${source.id}/deliveries?status=unmapped`, {
      headers: auth,
    });
    const page = (await log.json()) as { items: { reason: string }[] };
    expect(page.items.map((d) => d.reason)).toContain('the body is empty');
  });

  it('records why a payload does not map, and writes nothing', async () => {
    const { auth } = await signedIn('whin-unmapped');
    const source = await createSource(auth);
    const cases: [unknown, string][] = [
      [{ title: 'No id' }, 'external_id (/id): is missing'],
      [{ id: { nested: true }, title: 'x' }, 'external_id (/id): must be a string or an integer'],
      [{ id: 'u1' }, 'title (/title): is missing'],
      [{ id: 'u1', title: 7 }, 'title (/title): must be a string'],
      [{ id: 'u1', title: 'x'.repeat(301) }, 'title (/title): must be at most 300 characters'],
      [{ id: 'u1', title: 'x', lang: 'not a locale!' }, 'locale (/lang)'],
      [{ id: 'u1', title: 'bad \u0000 nul' }, 'NUL'],
      [{ id: 'u1', title: 'x', body: 5 }, 'body (/body)'],
      [{ id: 'u2', type: 'post.deleted' }, 'delete of an external id never received'],
    ];
    for (const [payload, reason] of cases) {
      const body = await receipt(await deliver(source, payload), 200);
      expect(body.status, JSON.stringify(payload)).toBe('unmapped');
      expect(body.reason).toContain(reason);
    }
    // A lone surrogate, escaped in the JSON text.
    const lone = await receipt(
      await deliver(source, null, { raw: '{"id":"u3","title":"half \\ud800 pair"}' }),
      200,
    );
    expect(lone.reason).toContain('unpaired surrogate');
    const items = await testDb().select().from(content).where(eq(content.createdBy, source.id));
    expect(items).toEqual([]);
    await deliveriesEventually(source.id, 'unmapped', cases.length + 1);
  });

  it('stores arbitrary Unicode as sent, publishes when asked, and deletes on a delete event', async () => {
    const { auth } = await signedIn('whin-unicode');
    const source = await createSource(auth, {
      mapping: {
        external_id: 'data.id',
        title: 'data.title',
        body: '/data/body',
        locale: 'data.lang',
        tags: '/data/tags',
        metadata: '/data/meta',
        event_type: '/event',
        delete_events: ['deleted'],
        publish: true,
      },
    });
    const title = 'مرحبا بالعالم 👩🏽‍💻 e\u0301 \u200f ﷽';
    const created = await receipt(
      await deliver(source, {
        event: 'upserted',
        data: {
          id: 9001,
          title,
          body: '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \u202e reversed',
          lang: 'AR',
          tags: ['أخبار'],
          meta: { مفتاح: 'قيمة' },
        },
      }),
      202,
    );
    const item = await readItem(auth, created.content_id!);
    expect(item.body).toMatchObject({ status: 'published', default_locale: 'ar' });
    expect(JSON.stringify(item.body)).toContain(JSON.stringify(title).slice(1, -1));
    const removed = await receipt(
      await deliver(source, { event: 'deleted', data: { id: 9001 } }),
      202,
    );
    expect(removed.content_id).toBe(created.content_id);
    expect((await call(`/v1/content/${created.content_id}`, { headers: auth })).status).toBe(404);
    const twice = await receipt(
      await deliver(source, { event: 'deleted', data: { id: 9001 } }),
      200,
    );
    expect(twice).toMatchObject({ status: 'unmapped', reason: 'the item is already deleted' });
  });
});

describe('POST /webhooks/inbound/{id}: requests', () => {
  it('refuses query parameters, as every route does, and a malformed source id as every route does', async () => {
    const { auth } = await signedIn('whin-query');
    const source = await createSource(auth);
    const problem = await expectProblem(
      await deliver(source, { id: 'q', title: 'Q' }, { query: '?debug=1' }),
      400,
    );
    expect(problem.errors?.[0]?.path).toBe('query.debug');
    await expectProblem(await deliver(source, { id: 'q', title: 'Q' }, { query: '?a=1&a=2' }), 400);
    const malformed = await call('/webhooks/inbound/not-an-id', { method: 'POST', body: '{}' });
    expect((await expectProblem(malformed, 400)).errors?.[0]?.path).toBe('path.source_id');
  });

  it("cannot reach another organisation's source through its own: ids are global, secrets are not", async () => {
    const a = await signedIn('whin-tenant-a');
    const b = await signedIn('whin-tenant-b');
    const sourceA = await createSource(a.auth);
    const sourceB = await createSource(b.auth);
    // B's upstream signing with B's secret for A's source id is refused.
    await expectProblem(
      await deliver({ ...sourceA, secret: sourceB.secret }, { id: 't', title: 'T' }),
      401,
    );
    // The delivery log of A's source is not B's to read.
    await expectProblem(
      await call(`/v1/webhooks/sources/${sourceA.id}/deliveries`, { headers: b.auth }),
      404,
    );
  });

  it('pages the delivery log newest first by cursor', async () => {
    const { auth } = await signedIn('whin-log');
    const source = await createSource(auth);
    for (let i = 0; i < 3; i++) {
      await receipt(await deliver(source, { id: `log-${i}`, title: `Log ${i}` }), 202);
    }
    const path = `/v1/webhooks/sources/${source.id}/deliveries`;
    const first = (await (await call(`${path}?limit=2`, { headers: auth })).json()) as {
      items: { external_id: string; status: string; operation_id: string | null }[];
      next_cursor: string;
    };
    expect(first.items.map((d) => d.external_id)).toEqual(['log-2', 'log-1']);
    expect(first.items[0]!.operation_id).toMatch(/^op_/);
    const second = (await (
      await call(`${path}?limit=2&cursor=${first.next_cursor}`, { headers: auth })
    ).json()) as { items: { external_id: string }[]; next_cursor: string | null };
    expect(second.items.map((d) => d.external_id)).toEqual(['log-0']);
    expect(second.next_cursor).toBeNull();
    await expectProblem(await call(`${path}?status=lost`, { headers: auth }), 400);
  });
});
