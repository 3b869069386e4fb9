import { env } from 'cloudflare:workers';
import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { webhookEndpoints } from '../../../../shared/db/schema/index.ts';
import { call, expectProblem, testDb, untilQuiet } from '../../helpers.ts';
import { auditedEventually, json, signedIn } from '../keys/fixtures.ts';
import {
  createEndpoint,
  type EndpointBody,
  hook,
  insertDelivery,
  insertEndpoint,
  LOOPBACK,
} from './fixtures.ts';

const PATH = '/v1/webhooks/endpoints';

afterAll(() => untilQuiet());

async function endpointRow(id: string) {
  const [row] = await testDb().select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id));
  return row!;
}

describe('POST /v1/webhooks/endpoints', () => {
  it('creates an endpoint, shows its whsec_ secret once and stores it sealed', async () => {
    const { auth, member } = await signedIn('ep-create');
    const endpoint = await createEndpoint(auth, {
      url: 'https://hooks.example.com/sift',
      description: 'Rebuild the site',
    });
    expect(endpoint.id).toMatch(/^ep_/);
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(endpoint).toMatchObject({
      url: 'https://hooks.example.com/sift',
      description: 'Rebuild the site',
      event_types: ['*'],
      enabled: true,
      disabled_reason: null,
      failure_count: 0,
      created_by: member.userId,
    });
    const row = await endpointRow(endpoint.id);
    expect(row.secretCiphertext).toMatch(/^v1\.test-current\./);
    expect(row.secretCiphertext).not.toContain(endpoint.secret.slice(6, 20));
    const got = await call(`${PATH}/${endpoint.id}`, { headers: auth });
    const text = await got.text();
    expect(got.status).toBe(200);
    expect(text).not.toContain(endpoint.secret);
    expect(JSON.parse(text)).not.toHaveProperty('secret');
    const audited = await auditedEventually('webhook_endpoint.create', endpoint.id);
    expect(JSON.stringify(audited.data)).not.toContain(endpoint.secret);
  });

  it('takes event filters (exact, content.*, trend.*, ai.*, *) and a secret of the caller’s own', async () => {
    const { auth } = await signedIn('ep-filters');
    const secret = `whsec_${btoa('0123456789abcdef0123456789abcdef')}`;
    const endpoint = await createEndpoint(auth, {
      url: 'https://hooks.example.com/a',
      event_types: [
        'content.published',
        'content.*',
        'content.published',
        'webhook_endpoint.disabled',
        'trend.detected',
        'trend.*',
        'ai.budget_exhausted',
        'ai.*',
      ],
      secret,
    });
    expect(endpoint.secret).toBe(secret);
    expect(endpoint.event_types).toEqual([
      'content.published',
      'content.*',
      'webhook_endpoint.disabled',
      'trend.detected',
      'trend.*',
      'ai.budget_exhausted',
      'ai.*',
    ]);
  });

  it('refuses what breaks a rule, naming the field', async () => {
    const { auth } = await signedIn('ep-bad');
    const cases: [unknown, string, number][] = [
      [{}, 'body.url', 400],
      [{ url: '' }, 'body.url', 400],
      [{ url: 'https://h.example.com', event_types: [] }, 'body.event_types', 400],
      [{ url: 'https://h.example.com', event_types: ['content.typo'] }, 'body.event_types.0', 400],
      [{ url: 'https://h.example.com', event_types: ['search.*'] }, 'body.event_types.0', 400],
      [{ url: 'https://h.example.com', event_types: ['webhook.test'] }, 'body.event_types.0', 400],
      [{ url: 'https://h.example.com', event_types: Array(51).fill('*') }, 'body.event_types', 400],
      [{ url: 'https://h.example.com', secret: 'not-whsec' }, 'body.secret', 400],
      [{ url: 'https://h.example.com', secret: 'whsec_short' }, 'body.secret', 400],
      [{ url: 'https://h.example.com', description: 'x'.repeat(501) }, 'body.description', 400],
      [{ url: 'https://h.example.com', description: 'nul\u0000' }, 'body.description', 400],
      [{ url: 'https://h.example.com', description: '\ud800' }, 'body.description', 400],
      [{ url: 'https://h.example.com', surprise: 1 }, 'surprise', 400],
      [{ url: `https://h.example.com/${'a'.repeat(2100)}` }, 'body.url', 400],
      [{ url: 'not a url' }, 'body.url', 422],
      [{ url: 'ftp://h.example.com/x' }, 'https', 422],
      [{ url: 'https://user:pw@h.example.com/x' }, 'credentials', 422],
      [{ url: 'https://h.example.com/x#frag' }, 'fragment', 422],
    ];
    for (const [body, says, status] of cases) {
      const response = await call(PATH, json('POST', body, auth));
      const problem = await expectProblem(response, status);
      expect(JSON.stringify(problem), JSON.stringify(body).slice(0, 80)).toContain(says);
    }
  });

  it('refuses every private, loopback, link-local, CGNAT and metadata destination (SSRF)', async () => {
    const { auth } = await signedIn('ep-ssrf');
    const refused = [
      'http://hooks.example.com/plain-http',
      'https://127.0.0.1/x',
      'https://127.1.2.3/x',
      'https://0x7f.1/x',
      'https://2130706433/x',
      'https://localhost/x',
      'https://localhost./x',
      'https://printer.local/x',
      'https://metadata.google.internal/computeMetadata/v1/',
      'https://10.0.0.1/x',
      'https://172.16.5.4/x',
      'https://192.168.1.1/x',
      'https://169.254.169.254/latest/meta-data/',
      'https://100.64.0.1/x',
      'https://0.0.0.0/x',
      'https://224.0.0.1/x',
      'https://[::1]/x',
      'https://[::ffff:127.0.0.1]/x',
      'https://[fc00::1]/x',
      'https://[fe80::1]/x',
      'https://[fd00:ec2::254]/x',
    ];
    for (const url of refused) {
      const response = await call(PATH, json('POST', { url }, auth));
      const problem = await expectProblem(response, 422);
      expect(problem.errors?.[0]?.path, url).toBe('body.url');
    }
    // Development allows http and loopback (WEBHOOKS_ALLOW_LOOPBACK), never private ranges.
    const local = await call(PATH, json('POST', { url: 'http://127.0.0.1:9/x' }, auth), LOOPBACK);
    expect(local.status).toBe(201);
    const privateRange = await call(
      PATH,
      json('POST', { url: 'http://10.1.2.3/x' }, auth),
      LOOPBACK,
    );
    await expectProblem(privateRange, 422);
  });

  it('resolves a host name and refuses it when any address is blocked (SSRF), naming body.url and the rule', async () => {
    const { auth } = await signedIn('ep-dns');
    // The webhook lab's resolver answers these names (test/helpers/webhook-lab.ts).
    const refused: [string, string][] = [
      ['loopback.sift.test', 'must not resolve to a loopback address (127.0.0.1)'],
      ['private10.sift.test', 'must not resolve to a blocked address: private (10.0.0.7)'],
      ['private172.sift.test', 'must not resolve to a blocked address: private (172.16.5.4)'],
      ['private192.sift.test', 'must not resolve to a blocked address: private (192.168.1.1)'],
      ['cgnat.sift.test', 'must not resolve to a blocked address: carrier-grade NAT (100.64.0.1)'],
      [
        'metadata.sift.test',
        'must not resolve to a blocked address: link-local (cloud metadata) (169.254.169.254)',
      ],
      ['ula.sift.test', 'must not resolve to a blocked address: unique local (private) (fd00::1)'],
      ['linklocal6.sift.test', 'must not resolve to a blocked address: link-local (fe80::1)'],
      [
        'mixed.sift.test',
        'must not resolve to a blocked address: unique local (private) (fd12:3456::1)',
      ],
      ['nxdomain.sift.test', 'does not resolve to an address'],
    ];
    for (const [host, rule] of refused) {
      const response = await call(PATH, json('POST', { url: `https://${host}/hook` }, auth));
      const problem = await expectProblem(response, 422);
      expect(problem.code).toBe('UNPROCESSABLE');
      expect(problem.errors, host).toEqual([{ path: 'body.url', message: rule }]);
      expect(problem.detail).toBe(`body.url: ${rule}`);
    }
    // Development allows a name that resolves to loopback, never one that resolves privately.
    const local = await call(
      PATH,
      json('POST', { url: 'http://loopback.sift.test:9/x' }, auth),
      LOOPBACK,
    );
    expect(local.status).toBe(201);
    await expectProblem(
      await call(PATH, json('POST', { url: 'http://private10.sift.test/x' }, auth), LOOPBACK),
      422,
    );
    // A public name is taken; changing it to one that resolves privately is refused likewise.
    const endpoint = await createEndpoint(auth, { url: 'https://public.sift.test/hook' });
    const changed = await call(
      `${PATH}/${endpoint.id}`,
      json('PATCH', { url: 'https://metadata.sift.test/latest/meta-data/' }, auth),
    );
    const problem = await expectProblem(changed, 422);
    expect(problem.errors).toEqual([
      {
        path: 'body.url',
        message:
          'must not resolve to a blocked address: link-local (cloud metadata) (169.254.169.254)',
      },
    ]);
    expect((await endpointRow(endpoint.id)).url).toBe('https://public.sift.test/hook');
  });

  it('answers 503 when a host name cannot be resolved now, storing nothing', async () => {
    const { auth, orgId } = await signedIn('ep-dns-down');
    const servfail = await call(PATH, json('POST', { url: 'https://servfail.sift.test/x' }, auth));
    const problem = await expectProblem(servfail, 503);
    expect(problem).toMatchObject({ code: 'SERVICE_UNAVAILABLE', dependency: 'dns' });
    expect(problem.detail).toBe(
      'body.url could not be checked (servfail.sift.test): the DNS resolver answered SERVFAIL ' +
        '(status 2). Nothing was changed; try again shortly.',
    );
    expect(servfail.headers.get('Retry-After')).toBe('5');
    // The resolver down altogether.
    const down = { WEBHOOKS_DNS_RESOLVER: 'http://127.0.0.1:9/dns-query' };
    const unreachable = await call(
      PATH,
      json('POST', { url: 'https://public.sift.test/x' }, auth),
      down,
    );
    expect((await expectProblem(unreachable, 503)).detail).toContain(
      'the DNS resolver could not be reached',
    );
    // An IP literal is checked as written: the resolver is not asked.
    const literal = await call(PATH, json('POST', { url: 'http://127.0.0.1:9/x' }, auth), {
      ...LOOPBACK,
      ...down,
    });
    expect(literal.status).toBe(201);
    const { id } = (await literal.json()) as EndpointBody;
    const patched = await call(
      `${PATH}/${id}`,
      json('PATCH', { url: 'https://public.sift.test/x' }, auth),
      down,
    );
    await expectProblem(patched, 503);
    expect((await endpointRow(id)).url).toBe('http://127.0.0.1:9/x');
    const rows = await testDb()
      .select({ url: webhookEndpoints.url })
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.orgId, orgId));
    expect(rows).toEqual([{ url: 'http://127.0.0.1:9/x' }]);
  });

  it('refuses WEBHOOKS_ALLOW_LOOPBACK in production (a misconfiguration)', async () => {
    const { auth } = await signedIn('ep-prod');
    const response = await call(PATH, json('POST', { url: 'https://h.example.com' }, auth), {
      ...LOOPBACK,
      ENVIRONMENT: 'production',
    });
    const problem = await expectProblem(response, 500);
    expect(problem.code).toBe('MISCONFIGURED');
    expect(JSON.stringify(problem)).toContain('WEBHOOKS_ALLOW_LOOPBACK');
  });

  it('keeps an organisation to 100 endpoints', async () => {
    const { auth, orgId } = await signedIn('ep-cap');
    for (let i = 0; i < 100; i++) await insertEndpoint(orgId, env.SECRETS_KEY);
    const response = await call(PATH, json('POST', { url: 'https://h.example.com' }, auth));
    const problem = await expectProblem(response, 409);
    expect(problem.detail).toContain('100');
  });
});

describe('endpoint management', () => {
  it('lists newest first with cursor paging, secrets never included', async () => {
    const { auth } = await signedIn('ep-list');
    const made: string[] = [];
    for (let i = 0; i < 3; i++) {
      made.push((await createEndpoint(auth, { url: `https://h.example.com/${i}` })).id);
    }
    const first = await call(`${PATH}?limit=2`, { headers: auth });
    const page1 = (await first.json()) as { items: EndpointBody[]; next_cursor: string };
    expect(page1.items.map((e) => e.id)).toEqual([made[2], made[1]]);
    const second = await call(`${PATH}?limit=2&cursor=${page1.next_cursor}`, { headers: auth });
    const page2 = (await second.json()) as { items: EndpointBody[]; next_cursor: null };
    expect(page2.items.map((e) => e.id)).toEqual([made[0]]);
    expect(page2.next_cursor).toBeNull();
    expect(JSON.stringify([page1, page2])).not.toContain('whsec_');
    await expectProblem(await call(`${PATH}?limit=0`, { headers: auth }), 400);
    await expectProblem(await call(`${PATH}?limit=101`, { headers: auth }), 400);
    await expectProblem(await call(`${PATH}?cursor=garbage`, { headers: auth }), 400);
  });

  it('updates URL, description and event types; checks the URL again', async () => {
    const { auth } = await signedIn('ep-update');
    const endpoint = await createEndpoint(auth, { url: 'https://h.example.com/a' });
    const response = await call(
      `${PATH}/${endpoint.id}`,
      json(
        'PATCH',
        {
          url: 'https://h.example.com/b',
          description: 'New',
          event_types: ['content.deleted'],
        },
        auth,
      ),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      url: 'https://h.example.com/b',
      description: 'New',
      event_types: ['content.deleted'],
    });
    const cleared = await call(
      `${PATH}/${endpoint.id}`,
      json('PATCH', { description: null }, auth),
    );
    expect(((await cleared.json()) as EndpointBody).description).toBeNull();
    const bad = await call(
      `${PATH}/${endpoint.id}`,
      json('PATCH', { url: 'https://169.254.169.254/' }, auth),
    );
    await expectProblem(bad, 422);
    await expectProblem(
      await call(`${PATH}/${endpoint.id}`, json('PATCH', { enabled: false }, auth)),
      400,
    );
    expect((await endpointRow(endpoint.id)).url).toBe('https://h.example.com/b');
    await auditedEventually('webhook_endpoint.update', endpoint.id);
  });

  it('disables and enables (a clean record), each idempotent and audited', async () => {
    const { auth } = await signedIn('ep-toggle');
    const endpoint = await createEndpoint(auth, { url: 'https://h.example.com/a' });
    await testDb()
      .update(webhookEndpoints)
      .set({ failureCount: 7, failingSince: new Date(Date.now() - 3_600_000) })
      .where(eq(webhookEndpoints.id, endpoint.id));
    const off = await call(`${PATH}/${endpoint.id}/disable`, { method: 'POST', headers: auth });
    expect(await off.json()).toMatchObject({ enabled: false, disabled_reason: 'manual' });
    const again = await call(`${PATH}/${endpoint.id}/disable`, { method: 'POST', headers: auth });
    expect(await again.json()).toMatchObject({ enabled: false, disabled_reason: 'manual' });
    const on = await call(`${PATH}/${endpoint.id}/enable`, { method: 'POST', headers: auth });
    expect(await on.json()).toMatchObject({
      enabled: true,
      disabled_reason: null,
      failure_count: 0,
      failing_since: null,
    });
    await auditedEventually('webhook_endpoint.disable', endpoint.id);
    await auditedEventually('webhook_endpoint.enable', endpoint.id);
  });

  it('deletes an endpoint with its deliveries', async () => {
    const { auth, orgId } = await signedIn('ep-delete');
    const endpoint = await createEndpoint(auth, { url: 'https://h.example.com/a' });
    await insertDelivery(orgId, endpoint.id);
    const response = await call(`${PATH}/${endpoint.id}`, { method: 'DELETE', headers: auth });
    expect(response.status).toBe(204);
    await expectProblem(await call(`${PATH}/${endpoint.id}`, { headers: auth }), 404);
    await expectProblem(
      await call(`${PATH}/${endpoint.id}`, { method: 'DELETE', headers: auth }),
      404,
    );
    await auditedEventually('webhook_endpoint.delete', endpoint.id);
  });

  it('rotates the secret with a grace period, bounded', async () => {
    const { auth } = await signedIn('ep-rotate');
    const endpoint = await createEndpoint(auth, { url: 'https://h.example.com/a' });
    const response = await call(
      `${PATH}/${endpoint.id}/rotate-secret`,
      json('POST', { grace_seconds: 3600 }, auth),
    );
    const rotated = (await response.json()) as EndpointBody & { secret: string };
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(endpoint.secret);
    const expires = Date.parse(rotated.previous_secret_expires_at!);
    expect(Math.abs(expires - (Date.now() + 3_600_000))).toBeLessThan(60_000);
    for (const grace of [-1, 604_801, 1.5, '60']) {
      await expectProblem(
        await call(
          `${PATH}/${endpoint.id}/rotate-secret`,
          json('POST', { grace_seconds: grace }, auth),
        ),
        400,
      );
    }
    const now = await call(
      `${PATH}/${endpoint.id}/rotate-secret`,
      json('POST', { grace_seconds: 0 }, auth),
    );
    expect(((await now.json()) as EndpointBody).previous_secret_expires_at).toBeNull();
    await auditedEventually('webhook_endpoint.rotate_secret', endpoint.id);
  });

  it('answers 404 for ids that are not the organisation’s and 400 for malformed ones', async () => {
    const { auth } = await signedIn('ep-404');
    const other = await signedIn('ep-404-other');
    const theirs = await createEndpoint(other.auth, { url: 'https://h.example.com/a' });
    for (const path of [
      `${PATH}/${theirs.id}`,
      `${PATH}/${theirs.id}/deliveries`,
      `${PATH}/ep_01jd5x3k7yf0v9r2m4q6s8t1wz`,
    ]) {
      await expectProblem(await call(path, { headers: auth }), 404);
    }
    const malformed = await expectProblem(await call(`${PATH}/sub_123`, { headers: auth }), 400);
    expect(malformed.errors?.[0]?.path).toBe('path.id');
  });

  it('needs webhooks:manage (an editor is refused)', async () => {
    const { auth } = await signedIn('ep-editor', 'editor');
    await expectProblem(await call(PATH, { headers: auth }), 403);
    await expectProblem(await call(PATH, json('POST', { url: hook().url }, auth), LOOPBACK), 403);
  });
});
