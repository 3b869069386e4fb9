import { and, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import {
  auditLog,
  webhookDeliveries,
  webhookEndpoints,
} from '../../../../shared/db/schema/index.ts';
import { call, eventually, expectProblem, runCron, testDb, untilQuiet } from '../../helpers.ts';
import { auditedEventually, json, signedIn } from '../keys/fixtures.ts';
import {
  attemptRows,
  contentEvent,
  createEndpoint,
  type DeliveryBody,
  deliveryEventually,
  deliveryRows,
  dispatch,
  dnsAnswer,
  forward,
  getDelivery,
  hook,
  insertDelivery,
  runAttempt,
  verifies,
} from './fixtures.ts';

const PATH = '/v1/webhooks/endpoints';

afterAll(() => untilQuiet());

describe('delivering events to endpoints', () => {
  it('delivers a content write, signed per Standard Webhooks, and logs the attempt', async () => {
    const { auth, orgId } = await signedIn('wh-flow');
    const receiver = hook();
    const endpoint = await createEndpoint(auth, {
      url: receiver.url,
      event_types: ['content.created'],
    });
    // A real write: the WRITES consumer fans its content.created out to JOBS.
    const created = await call(
      '/v1/content',
      json('POST', { translations: { en: { title: 'Webhook lighthouse' } } }, auth),
    );
    expect(created.status).toBe(202);
    const contentId = ((await created.json()) as { content: { id: string } }).content.id;
    const delivery = await deliveryEventually(orgId, endpoint.id);
    expect(delivery).toMatchObject({ eventType: 'content.created', eventId: `${contentId}.v1` });
    const { result } = await runAttempt(delivery.id, 1);
    expect(result).toMatchObject({ outcome: 'delivered', attempt: 1, status_code: 200 });
    const [request] = await receiver.received();
    expect(request!.headers['webhook-id']).toBe(delivery.id);
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['user-agent']).toMatch(/^Sift-Webhooks\//);
    expect(
      Math.abs(Number(request!.headers['webhook-timestamp']) - Date.now() / 1000),
    ).toBeLessThan(30);
    expect(await verifies(request!, endpoint.secret)).toBe(true);
    expect(await verifies(request!, `whsec_${btoa('somebody else entirely, 32 b!!!')}`)).toBe(
      false,
    );
    const body = JSON.parse(request!.body) as Record<string, unknown>;
    expect(body).toMatchObject({
      id: `${contentId}.v1`,
      type: 'content.created',
      data: { content: { id: contentId, version: 1, status: 'draft' } },
    });
    const view = await getDelivery(auth, endpoint.id, delivery.id);
    expect(view).toMatchObject({ status: 'delivered', attempts: 1, last_status_code: 200 });
    expect(view.payload).toEqual(body);
    expect(view.attempt_log).toHaveLength(1);
    expect(view.attempt_log![0]).toMatchObject({
      attempt: 1,
      outcome: 'delivered',
      status_code: 200,
      response_body: 'ok',
      url: receiver.url,
      error: null,
    });
    const list = await call(`${PATH}/${endpoint.id}/deliveries?status=delivered`, {
      headers: auth,
    });
    expect(((await list.json()) as { items: DeliveryBody[] }).items.map((d) => d.id)).toEqual([
      delivery.id,
    ]);
    const endpointNow = await call(`${PATH}/${endpoint.id}`, { headers: auth });
    expect(await endpointNow.json()).toMatchObject({ failure_count: 0 });
  });

  it('sends only the types an endpoint subscribes to, once per event however often dispatched', async () => {
    const { auth, orgId } = await signedIn('wh-filter');
    const published = await createEndpoint(auth, {
      url: hook().url,
      event_types: ['content.published'],
    });
    const family = await createEndpoint(auth, { url: hook().url, event_types: ['content.*'] });
    const off = await createEndpoint(auth, { url: hook().url, enabled: false });
    const event = contentEvent('content.published');
    await dispatch(orgId, event);
    await dispatch(orgId, event);
    await dispatch(orgId, contentEvent('content.archived'));
    await eventually(async () => (await deliveryRows(orgId, family.id)).length === 2);
    await untilQuiet({ quietMs: 2_000 });
    expect((await deliveryRows(orgId, published.id)).map((d) => d.eventType)).toEqual([
      'content.published',
    ]);
    expect((await deliveryRows(orgId, family.id)).map((d) => d.eventType).sort()).toEqual([
      'content.archived',
      'content.published',
    ]);
    expect(await deliveryRows(orgId, off.id)).toEqual([]);
  });

  it('retries a failure honouring Retry-After, then delivers; a repeated callback does nothing', async () => {
    const { auth, orgId } = await signedIn('wh-retry');
    const receiver = hook();
    await receiver.replies([
      { status: 503, headers: { 'Retry-After': '1' }, body: 'busy'.repeat(400) },
    ]);
    const endpoint = await createEndpoint(auth, { url: receiver.url });
    await dispatch(orgId, contentEvent());
    const delivery = await deliveryEventually(orgId, endpoint.id);
    const first = await runAttempt(delivery.id, 1);
    expect(first.result).toMatchObject({ outcome: 'failed', status_code: 503 });
    const due = Date.parse(first.result.next_attempt_at as string);
    expect(due - Date.now()).toBeLessThan(2_000);
    // QStash calling again for the same attempt changes nothing.
    const repeat = await forward(first.call);
    expect(await repeat.json()).toEqual({ outcome: 'skipped' });
    const second = await runAttempt(delivery.id, 2);
    expect(second.result).toMatchObject({ outcome: 'delivered', attempt: 2 });
    expect(await receiver.received()).toHaveLength(2);
    const view = await getDelivery(auth, endpoint.id, delivery.id);
    expect(view.status).toBe('delivered');
    expect(view.attempt_log!.map((a) => [a.attempt, a.status_code])).toEqual([
      [1, 503],
      [2, 200],
    ]);
    // The first 1 KB of the answer is kept, no more.
    expect(view.attempt_log![0]!.response_body).toHaveLength(1024);
    const endpointNow = (await (
      await call(`${PATH}/${endpoint.id}`, { headers: auth })
    ).json()) as {
      failure_count: number;
      last_failure_at: string | null;
      last_success_at: string | null;
    };
    expect(endpointNow.failure_count).toBe(0);
    expect(endpointNow.last_failure_at).not.toBeNull();
    expect(endpointNow.last_success_at).not.toBeNull();
  });

  it('treats a redirect as a failure and never follows it; a dead port is a failure too', async () => {
    const { auth, orgId } = await signedIn('wh-redirect');
    const receiver = hook();
    const elsewhere = hook();
    await receiver.replies([{ status: 302, headers: { Location: elsewhere.url } }]);
    const endpoint = await createEndpoint(auth, { url: receiver.url });
    await dispatch(orgId, contentEvent());
    const delivery = await deliveryEventually(orgId, endpoint.id);
    const { result } = await runAttempt(delivery.id, 1);
    expect(result).toMatchObject({ outcome: 'failed', status_code: 302 });
    // The schedule's second delay: 5 s ± 10%.
    const wait = Date.parse(result.next_attempt_at as string) - Date.now();
    expect(wait).toBeGreaterThan(3_500);
    expect(wait).toBeLessThan(5_600);
    expect(await elsewhere.received()).toEqual([]);

    const dead = await createEndpoint(auth, { url: 'http://127.0.0.1:9/closed' });
    await dispatch(orgId, contentEvent());
    const lost = await deliveryEventually(orgId, dead.id);
    const refused = await runAttempt(lost.id, 1);
    expect(refused.result).toMatchObject({ outcome: 'failed', status_code: null });
    const [attempt] = await attemptRows(orgId, lost.id);
    expect(attempt!.error).toMatch(/^connection failed/);
  });

  it('checks the destination again at delivery (SSRF): loopback refused without the setting', async () => {
    const { auth, orgId } = await signedIn('wh-ssrf');
    const receiver = hook();
    const endpoint = await createEndpoint(auth, { url: receiver.url });
    await dispatch(orgId, contentEvent());
    const delivery = await deliveryEventually(orgId, endpoint.id);
    const { result } = await runAttempt(delivery.id, 1, { WEBHOOKS_ALLOW_LOOPBACK: 'false' });
    expect(result).toMatchObject({ outcome: 'failed', status_code: null });
    const [attempt] = await attemptRows(orgId, delivery.id);
    expect(attempt!.error).toMatch(/^destination refused: the URL must be an https URL/);
    expect(await receiver.received()).toEqual([]);
  });

  it('resolves the name again before each attempt: one that now answers a private address is refused (DNS rebinding)', async () => {
    const { auth, orgId } = await signedIn('wh-rebind');
    const name = `rebind-${crypto.randomUUID().slice(0, 8)}.sift.test`;
    // Public when the endpoint is created (TTL 0: not cached), private by the time of delivery.
    await dnsAnswer(name, { A: ['93.184.215.14'], ttl: 0 });
    const endpoint = await createEndpoint(auth, { url: `https://${name}/hook` });
    await dnsAnswer(name, { A: ['10.0.0.7'], ttl: 0 });
    await dispatch(orgId, contentEvent());
    const delivery = await deliveryEventually(orgId, endpoint.id);
    const { result } = await runAttempt(delivery.id, 1);
    expect(result).toMatchObject({ outcome: 'failed', status_code: null, endpoint_disabled: null });
    expect(result.next_attempt_at).not.toBeNull();
    const [attempt] = await attemptRows(orgId, delivery.id);
    expect(attempt).toMatchObject({
      outcome: 'failed',
      url: `https://${name}/hook`,
      error:
        'destination refused: the URL must not resolve to a blocked address: private (10.0.0.7)',
    });
    const view = await getDelivery(auth, endpoint.id, delivery.id);
    expect(view).toMatchObject({ status: 'pending', last_error: attempt!.error });
    const endpointNow = await call(`${PATH}/${endpoint.id}`, { headers: auth });
    expect(await endpointNow.json()).toMatchObject({ failure_count: 1 });
  });

  it('retries an attempt whose name could not be resolved, not counting it against the endpoint', async () => {
    const { auth, orgId } = await signedIn('wh-dns-down');
    const name = `flaky-${crypto.randomUUID().slice(0, 8)}.sift.test`;
    await dnsAnswer(name, { A: ['93.184.215.14'], ttl: 0 });
    const endpoint = await createEndpoint(auth, { url: `https://${name}/hook` });
    await dnsAnswer(name, { status: 2, ttl: 0 });
    // Failing for more than five days: a failure counted now would disable it.
    const failingSince = new Date(Date.now() - 6 * 86_400_000);
    await testDb()
      .update(webhookEndpoints)
      .set({ failingSince, failureCount: 40 })
      .where(eq(webhookEndpoints.id, endpoint.id));
    await dispatch(orgId, contentEvent());
    const delivery = await deliveryEventually(orgId, endpoint.id);
    const { result } = await runAttempt(delivery.id, 1);
    expect(result).toMatchObject({ outcome: 'failed', status_code: null, endpoint_disabled: null });
    // The schedule's second delay: 5 s ± 10%.
    const wait = Date.parse(result.next_attempt_at as string) - Date.now();
    expect(wait).toBeGreaterThan(3_500);
    expect(wait).toBeLessThan(5_600);
    const [attempt] = await attemptRows(orgId, delivery.id);
    expect(attempt!.error).toBe(
      `DNS unavailable: the URL could not be checked (${name}): the DNS resolver answered ` +
        'SERVFAIL (status 2)',
    );
    const [row] = await testDb()
      .select()
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.id, endpoint.id));
    expect(row).toMatchObject({ failureCount: 40, failingSince, disabledAt: null });
    expect((await getDelivery(auth, endpoint.id, delivery.id)).status).toBe('pending');
  });

  it('disables an endpoint that answers 410, audits it and tells the other endpoints', async () => {
    const { auth, orgId } = await signedIn('wh-gone');
    const gone = hook();
    await gone.replies([{ status: 410, body: 'gone' }]);
    const endpoint = await createEndpoint(auth, { url: gone.url, event_types: ['content.*'] });
    const watcher = hook();
    const watching = await createEndpoint(auth, {
      url: watcher.url,
      event_types: ['webhook_endpoint.disabled'],
    });
    await dispatch(orgId, contentEvent());
    const delivery = await deliveryEventually(orgId, endpoint.id);
    const { result } = await runAttempt(delivery.id, 1);
    expect(result).toMatchObject({ outcome: 'gone', endpoint_disabled: 'gone' });
    const view = await getDelivery(auth, endpoint.id, delivery.id);
    expect(view).toMatchObject({ status: 'failed', next_attempt_at: null });
    const now = await call(`${PATH}/${endpoint.id}`, { headers: auth });
    expect(await now.json()).toMatchObject({ enabled: false, disabled_reason: 'gone' });
    const audited = await auditedEventually('webhook_endpoint.disable', endpoint.id);
    expect(audited).toMatchObject({ actorType: 'system', orgId });
    expect(audited.data).toMatchObject({ reason: 'gone', last_status_code: 410 });
    const notice = await deliveryEventually(orgId, watching.id);
    expect(notice.eventType).toBe('webhook_endpoint.disabled');
    await runAttempt(notice.id, 1);
    const [told] = await watcher.received();
    expect(JSON.parse(told!.body)).toMatchObject({
      type: 'webhook_endpoint.disabled',
      data: { endpoint: { id: endpoint.id, disabled_reason: 'gone' } },
    });
    // Nothing new is made for a disabled endpoint.
    await dispatch(orgId, contentEvent());
    await untilQuiet({ quietMs: 2_000 });
    expect(await deliveryRows(orgId, endpoint.id)).toHaveLength(1);
  });

  it('disables an endpoint whose every attempt failed for five days', async () => {
    const { auth, orgId } = await signedIn('wh-failing');
    const receiver = hook();
    await receiver.replies([{ status: 500 }]);
    const endpoint = await createEndpoint(auth, { url: receiver.url });
    await dispatch(orgId, contentEvent());
    const delivery = await deliveryEventually(orgId, endpoint.id);
    await testDb()
      .update(webhookEndpoints)
      .set({ failingSince: new Date(Date.now() - 5 * 86_400_000 - 60_000), failureCount: 40 })
      .where(eq(webhookEndpoints.id, endpoint.id));
    const { result } = await runAttempt(delivery.id, 1);
    expect(result).toMatchObject({ outcome: 'failed', endpoint_disabled: 'failing' });
    const now = await call(`${PATH}/${endpoint.id}`, { headers: auth });
    expect(await now.json()).toMatchObject({
      enabled: false,
      disabled_reason: 'failing',
      failure_count: 41,
    });
    const audited = await auditedEventually('webhook_endpoint.disable', endpoint.id);
    expect(audited.data).toMatchObject({ reason: 'failing' });
    // Its next attempt finds it disabled: the delivery ends failed, nothing is sent.
    const next = await runAttempt(delivery.id, 2);
    expect(next.result).toEqual({ outcome: 'endpoint_disabled' });
    expect(await receiver.received()).toHaveLength(1);
    const [row] = await deliveryRows(orgId, endpoint.id);
    expect(row).toMatchObject({
      status: 'failed',
      attempts: 1,
      lastError: 'the endpoint is disabled',
    });
  });

  it('signs with both secrets during a rotation’s grace period, then with the new one only', async () => {
    const { auth, orgId } = await signedIn('wh-rotate');
    const receiver = hook();
    const endpoint = await createEndpoint(auth, { url: receiver.url });
    const rotated = (await (
      await call(`${PATH}/${endpoint.id}/rotate-secret`, json('POST', { grace_seconds: 600 }, auth))
    ).json()) as { secret: string };
    await dispatch(orgId, contentEvent());
    const first = await deliveryEventually(orgId, endpoint.id);
    await runAttempt(first.id, 1);
    const [during] = await receiver.received();
    expect(during!.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(await verifies(during!, endpoint.secret)).toBe(true);
    expect(await verifies(during!, rotated.secret)).toBe(true);
    await call(`${PATH}/${endpoint.id}/rotate-secret`, json('POST', { grace_seconds: 0 }, auth));
    const latest = (await (
      await call(`${PATH}/${endpoint.id}/rotate-secret`, json('POST', { grace_seconds: 0 }, auth))
    ).json()) as { secret: string };
    const test = await call(`${PATH}/${endpoint.id}/test`, { method: 'POST', headers: auth });
    const testDelivery = (await test.json()) as DeliveryBody;
    await runAttempt(testDelivery.id, 1);
    const after = (await receiver.received())[1]!;
    expect(after.headers['webhook-signature']!.split(' ')).toHaveLength(1);
    expect(await verifies(after, latest.secret)).toBe(true);
    expect(await verifies(after, endpoint.secret)).toBe(false);
  });

  it('refuses a callback QStash did not sign, or whose body was changed', async () => {
    const { auth, orgId } = await signedIn('wh-forged');
    const receiver = hook();
    const endpoint = await createEndpoint(auth, { url: receiver.url });
    await dispatch(orgId, contentEvent());
    const delivery = await deliveryEventually(orgId, endpoint.id);
    const { call: qstashCall } = await runAttempt(delivery.id, 1);
    const tampered = { ...qstashCall, body: qstashCall.body.replace('"attempt":1', '"attempt":2') };
    await expectProblem(await forward(tampered), 401);
    const unsigned = { ...qstashCall, headers: {} };
    await expectProblem(await forward(unsigned), 401);
    const garbage = { ...qstashCall, headers: { 'upstash-signature': 'a.b.c' } };
    await expectProblem(await forward(garbage), 401);
    expect(await receiver.received()).toHaveLength(1);
  });
});

describe('test events, replays and recovery', () => {
  it('sends a test event to the endpoint whatever it subscribes to, echoing data', async () => {
    const { auth, orgId } = await signedIn('wh-test');
    const receiver = hook();
    const endpoint = await createEndpoint(auth, {
      url: receiver.url,
      event_types: ['content.deleted'],
    });
    const response = await call(
      `${PATH}/${endpoint.id}/test`,
      json('POST', { data: { note: 'hello ☀ مرحبا' } }, auth),
    );
    expect(response.status).toBe(202);
    const delivery = (await response.json()) as DeliveryBody;
    expect(delivery).toMatchObject({ event_type: 'webhook.test', status: 'pending', attempts: 0 });
    await runAttempt(delivery.id, 1);
    const [request] = await receiver.received();
    expect(JSON.parse(request!.body)).toMatchObject({
      type: 'webhook.test',
      data: { endpoint_id: endpoint.id, echo: { note: 'hello ☀ مرحبا' } },
    });
    await auditedEventually('webhook_endpoint.test', endpoint.id);
    await expectProblem(
      await call(
        `${PATH}/${endpoint.id}/test`,
        json('POST', { data: { big: 'x'.repeat(5_000) } }, auth),
      ),
      400,
    );
    await call(`${PATH}/${endpoint.id}/disable`, { method: 'POST', headers: auth });
    await expectProblem(
      await call(`${PATH}/${endpoint.id}/test`, { method: 'POST', headers: auth }),
      409,
    );
    expect(orgId).toBeTruthy();
  });

  it('replays a delivery with the same webhook-id and a fresh schedule; not one still pending', async () => {
    const { auth, orgId } = await signedIn('wh-replay');
    const receiver = hook();
    const endpoint = await createEndpoint(auth, { url: receiver.url });
    const sent = (await (
      await call(`${PATH}/${endpoint.id}/test`, { method: 'POST', headers: auth })
    ).json()) as DeliveryBody;
    const pending = await call(`${PATH}/${endpoint.id}/deliveries/${sent.id}/replay`, {
      method: 'POST',
      headers: auth,
    });
    await expectProblem(pending, 409);
    await runAttempt(sent.id, 1);
    const replay = await call(`${PATH}/${endpoint.id}/deliveries/${sent.id}/replay`, {
      method: 'POST',
      headers: auth,
    });
    expect(replay.status).toBe(202);
    expect(await replay.json()).toMatchObject({ status: 'pending', attempts: 1 });
    await runAttempt(sent.id, 2);
    const requests = await receiver.received();
    expect(requests.map((r) => r.headers['webhook-id'])).toEqual([sent.id, sent.id]);
    expect(requests[0]!.body).toBe(requests[1]!.body);
    const [row] = await deliveryRows(orgId, endpoint.id);
    expect(row).toMatchObject({ status: 'delivered', attempts: 2, scheduleBase: 1 });
    await expectProblem(
      await call(`${PATH}/${endpoint.id}/deliveries/dlv_01jd5x3k7yf0v9r2m4q6s8t1wz/replay`, {
        method: 'POST',
        headers: auth,
      }),
      404,
    );
  });

  it('recovers the failed deliveries of a period, oldest first', async () => {
    const { auth, orgId } = await signedIn('wh-recover');
    const receiver = hook();
    const endpoint = await createEndpoint(auth, { url: receiver.url });
    const hourAgo = new Date(Date.now() - 3_600_000);
    const inside = await insertDelivery(orgId, endpoint.id, { createdAt: hourAgo });
    const before = await insertDelivery(orgId, endpoint.id, {
      createdAt: new Date(Date.now() - 3 * 3_600_000),
    });
    await insertDelivery(orgId, endpoint.id, {
      status: 'delivered',
      deliveredAt: hourAgo,
      createdAt: hourAgo,
    });
    const since = new Date(Date.now() - 2 * 3_600_000).toISOString();
    const response = await call(`${PATH}/${endpoint.id}/recover`, json('POST', { since }, auth));
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ replayed: 1, next_since: null });
    const { result } = await runAttempt(inside, 11);
    expect(result).toMatchObject({ outcome: 'delivered', attempt: 11 });
    const rows = await testDb()
      .select()
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.orgId, orgId), eq(webhookDeliveries.id, before)));
    expect(rows[0]!.status).toBe('failed');
    for (const body of [
      { since: new Date(Date.now() - 31 * 86_400_000).toISOString() },
      { since, until: new Date(Date.now() - 3 * 3_600_000).toISOString() },
      { since: 'yesterday' },
      {},
    ]) {
      await expectProblem(
        await call(`${PATH}/${endpoint.id}/recover`, json('POST', body, auth)),
        400,
      );
    }
  });
});

describe('the sweeper', () => {
  it('schedules again an attempt QStash has not made ten minutes after it was due', async () => {
    const { auth, orgId } = await signedIn('wh-sweep');
    const receiver = hook();
    const endpoint = await createEndpoint(auth, { url: receiver.url });
    const id = await insertDelivery(orgId, endpoint.id, {
      status: 'pending',
      attempts: 2,
      nextAttemptAt: new Date(Date.now() - 11 * 60_000),
    });
    const outcome = (await runCron('*/5 * * * *'))?.['sweep-webhooks'];
    expect(outcome?.rescheduled).toBeGreaterThanOrEqual(1);
    const { result } = await runAttempt(id, 3);
    expect(result).toMatchObject({ outcome: 'delivered', attempt: 3 });
    expect(await receiver.received()).toHaveLength(1);
    const logged = await testDb().select().from(auditLog).where(eq(auditLog.targetId, id));
    expect(logged).toEqual([]);
  });
});
