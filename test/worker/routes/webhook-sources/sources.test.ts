import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { content } from '../../../../shared/db/schema/index.ts';
import { call, eventually, expectProblem, testDb, untilQuiet } from '../../helpers.ts';
import { auditedEventually, json, signedIn } from '../keys/fixtures.ts';
import { createSource, deliver, HMAC, MAPPING, type SourceBody, sourceRow } from './fixtures.ts';

const PATH = '/v1/webhooks/sources';

afterAll(() => untilQuiet());

describe('POST /v1/webhooks/sources', () => {
  it('creates a source, shows its secret once and stores it sealed', async () => {
    const { auth, member } = await signedIn('whs-create');
    const source = await createSource(auth);
    expect(source.id).toMatch(/^whs_/);
    expect(source.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(source).toMatchObject({
      kind: 'standard',
      enabled: true,
      inbound_path: `/webhooks/inbound/${source.id}`,
      failure_count: 0,
      created_by: member.userId,
      hmac: null,
    });
    expect(source.mapping).toMatchObject({ ...MAPPING, default_locale: 'en', publish: false });
    const row = await sourceRow(source.id);
    expect(row.secretCiphertext).toMatch(/^v1\.test-current\./);
    expect(row.secretCiphertext).not.toContain(source.secret.slice(6, 20));
    const got = await call(`${PATH}/${source.id}`, { headers: auth });
    const text = await got.text();
    expect(got.status).toBe(200);
    expect(text).not.toContain(source.secret);
    expect(JSON.parse(text)).not.toHaveProperty('secret');
    const audited = await auditedEventually('webhook_source.create', source.id);
    expect(JSON.stringify(audited.data)).not.toContain(source.secret);
  });

  it('takes the upstream’s own secret for github, stripe and hmac, validated', async () => {
    const { auth } = await signedIn('whs-supplied');
    const github = await createSource(auth, { kind: 'github', secret: 'my-github-secret-1234' });
    expect(github.secret).toBe('my-github-secret-1234');
    const stripe = await createSource(auth, { kind: 'stripe', secret: 'whsec_stripe0123456789' });
    expect(stripe.secret).toBe('whsec_stripe0123456789');
    const cases: [Record<string, unknown>, string][] = [
      [{ kind: 'standard', secret: 'whsec_someone-elses-secret' }, 'Sift generates it'],
      [{ kind: 'github', secret: 'short' }, 'body.secret'],
      [{ kind: 'github', secret: 'has spaces in the secret value' }, 'printable ASCII'],
      [{ kind: 'stripe', secret: 'not-a-stripe-secret-value' }, 'whsec_'],
    ];
    for (const [body, says] of cases) {
      const response = await call(
        PATH,
        json('POST', { name: 'x', mapping: MAPPING, ...body }, auth),
      );
      expect([400, 422]).toContain(response.status);
      expect(JSON.stringify(await response.json())).toContain(says);
    }
  });

  it('refuses a mapping or settings that cannot work, naming the field', async () => {
    const { auth } = await signedIn('whs-invalid');
    const cases: [Record<string, unknown>, string][] = [
      [{ mapping: { title: '/title' } }, 'body.mapping.external_id'],
      [
        { mapping: { ...MAPPING, delete_events: ['x'], event_type: undefined } },
        'body.mapping.delete_events',
      ],
      [{ mapping: { ...MAPPING, default_locale: 'not a locale' } }, 'body.mapping.default_locale'],
      [{ mapping: { ...MAPPING, extra: 1 } }, 'body.mapping'],
      [{ mapping: { ...MAPPING, title: 'x'.repeat(201) } }, 'body.mapping.title'],
      [{ kind: 'hmac' }, 'body.hmac'],
      [{ kind: 'github', hmac: HMAC }, 'body.hmac'],
      [{ kind: 'hmac', hmac: { ...HMAC, algorithm: 'md5' } }, 'body.hmac.algorithm'],
      [
        { kind: 'hmac', hmac: { ...HMAC, signature_header: 'bad header' } },
        'body.hmac.signature_header',
      ],
      [{ kind: 'nope' }, 'body.kind'],
      [{ name: '' }, 'body.name'],
    ];
    for (const [body, path] of cases) {
      const response = await call(
        PATH,
        json('POST', { name: 'x', kind: 'standard', mapping: MAPPING, ...body }, auth),
      );
      const problem = await expectProblem(response, 400);
      expect(JSON.stringify(problem.errors), JSON.stringify(body)).toContain(path);
    }
  });
});

describe('GET /v1/webhooks/sources', () => {
  it('pages newest first by cursor, and refuses unknown and repeated parameters', async () => {
    const { auth } = await signedIn('whs-list');
    const made: SourceBody[] = [];
    for (let i = 0; i < 3; i++) made.push(await createSource(auth, { name: `S${i}` }));
    const first = await call(`${PATH}?limit=2`, { headers: auth });
    const page1 = (await first.json()) as { items: SourceBody[]; next_cursor: string };
    expect(page1.items.map((s) => s.id)).toEqual([made[2]!.id, made[1]!.id]);
    for (const source of made) expect(JSON.stringify(page1)).not.toContain(source.secret!);
    expect(page1.items[0]).not.toHaveProperty('secret');
    const second = await call(`${PATH}?limit=2&cursor=${page1.next_cursor}`, { headers: auth });
    const page2 = (await second.json()) as { items: SourceBody[]; next_cursor: string | null };
    expect(page2.items.map((s) => s.id)).toEqual([made[0]!.id]);
    expect(page2.next_cursor).toBeNull();
    await expectProblem(await call(`${PATH}?lmit=2`, { headers: auth }), 400);
    await expectProblem(await call(`${PATH}?limit=2&limit=3`, { headers: auth }), 400);
    await expectProblem(await call(`${PATH}?cursor=garbage`, { headers: auth }), 400);
  });
});

describe('PATCH and DELETE /v1/webhooks/sources/{id}', () => {
  it('changes name, mapping and enabled, never the kind, and audits', async () => {
    const { auth } = await signedIn('whs-update');
    const source = await createSource(auth);
    const response = await call(
      `${PATH}/${source.id}`,
      json(
        'PATCH',
        { name: 'Renamed', enabled: false, mapping: { external_id: '/key', title: '/name' } },
        auth,
      ),
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as SourceBody;
    expect(body).toMatchObject({ name: 'Renamed', enabled: false, kind: 'standard' });
    expect(body.mapping).toMatchObject({ external_id: '/key', title: '/name' });
    await expectProblem(
      await call(`${PATH}/${source.id}`, json('PATCH', { kind: 'github' }, auth)),
      400,
    );
    await expectProblem(
      await call(`${PATH}/${source.id}`, json('PATCH', { hmac: HMAC }, auth)),
      422,
    );
    await auditedEventually('webhook_source.update', source.id);
  });

  it('deletes a source: it is gone, and deliveries to it are refused', async () => {
    const { auth } = await signedIn('whs-delete');
    const source = await createSource(auth);
    const made = await deliver(source, { id: 'kept-1', title: 'Kept after the source goes' });
    const { content_id: contentId } = (await made.json()) as { content_id: string };
    await eventually(async () => {
      const [row] = await testDb().select().from(content).where(eq(content.id, contentId));
      return row?.sourceId === source.id && row.externalId === 'kept-1';
    }, 20_000);
    expect((await call(`${PATH}/${source.id}`, { method: 'DELETE', headers: auth })).status).toBe(
      204,
    );
    const [kept] = await testDb().select().from(content).where(eq(content.id, contentId));
    expect(kept).toMatchObject({ sourceId: null, externalId: null, createdBy: source.id });
    await expectProblem(await call(`${PATH}/${source.id}`, { headers: auth }), 404);
    await expectProblem(
      await call(`${PATH}/${source.id}`, { method: 'DELETE', headers: auth }),
      404,
    );
    await expectProblem(await deliver(source, { id: 1, title: 'x' }), 401);
    await auditedEventually('webhook_source.delete', source.id);
  });

  it('answers 400 for a malformed id and 404 for an unknown one', async () => {
    const { auth } = await signedIn('whs-ids');
    await expectProblem(await call(`${PATH}/whs_nope`, { headers: auth }), 400);
    await expectProblem(
      await call(`${PATH}/whs_01jd5x3k7yf0v9r2m4q6s8t1wz`, { headers: auth }),
      404,
    );
  });
});

describe('POST /v1/webhooks/sources/{id}/rotate-secret', () => {
  it('shows a new secret once and keeps the previous one for the grace period', async () => {
    const { auth } = await signedIn('whs-rotate');
    const source = await createSource(auth);
    const response = await call(`${PATH}/${source.id}/rotate-secret`, json('POST', {}, auth));
    expect(response.status).toBe(200);
    const rotated = (await response.json()) as SourceBody & { secret: string };
    expect(rotated.secret).not.toBe(source.secret);
    const grace = Date.parse(rotated.previous_secret_expires_at!) - Date.now();
    expect(grace).toBeGreaterThan(86_400_000 - 60_000);
    expect(grace).toBeLessThanOrEqual(86_400_000);
    const row = await sourceRow(source.id);
    expect(row.previousSecretCiphertext).toMatch(/^v1\./);
    await auditedEventually('webhook_source.rotate_secret', source.id);
    await expectProblem(
      await call(
        `${PATH}/${source.id}/rotate-secret`,
        json('POST', { grace_seconds: 604_801 }, auth),
      ),
      400,
    );
    const none = await call(
      `${PATH}/${source.id}/rotate-secret`,
      json('POST', { grace_seconds: 0 }, auth),
    );
    expect(((await none.json()) as SourceBody).previous_secret_expires_at).toBeNull();
  });
});

describe('permissions', () => {
  it('refuses a member without settings:manage', async () => {
    const { auth } = await signedIn('whs-perm', 'editor');
    await expectProblem(await call(PATH, { headers: auth }), 403);
  });
});
