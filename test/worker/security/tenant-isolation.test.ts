import { env } from 'cloudflare:workers';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ledgerOf } from '../../../durable-objects/content-ledger.ts';
import { generateApiKey } from '../../../shared/auth/api-keys.ts';
import {
  type Permission,
  ROLE_PERMISSIONS,
  ROLES,
  type Role,
} from '../../../shared/auth/permissions.ts';
import { generateSigningKey, signAccessToken } from '../../../shared/auth/tokens.ts';
import { loadSnapshots } from '../../../shared/content/store.ts';
import {
  accessRules,
  apiKeys,
  content,
  documents,
  experiments,
  flags,
  invitations,
  memberships,
  operations,
  synonyms,
  users,
  webhookDeliveries,
  webhookEndpoints,
  webhookSources,
} from '../../../shared/db/schema/index.ts';
import { newId } from '../../../shared/ids.ts';
import { indexContent } from '../../../shared/search/index-entry.ts';
import { REBUILD_START_DELAY_SECONDS } from '../../../shared/search/namespace.ts';
import { sealSecret } from '../../../shared/secret-box.ts';
import { createApp } from '../../../workers/api/index.ts';
import { audience, bearer, createMember, createTenant, type Member, tokenFor } from '../auth.ts';
import { call, expectProblem, testDb, testServices, untilQuiet } from '../helpers.ts';
import { insertContent } from '../routes/content/fixtures.ts';
import { insertDocument, storedKeys } from '../routes/documents/fixtures.ts';
import { insertTopic } from '../routes/trends/fixtures.ts';
import { insertDelivery, insertEndpoint } from '../routes/webhooks/fixtures.ts';
import { readyDocument } from '../support/ready-documents.ts';
import {
  type Fixture,
  PROTECTED_ROUTES,
  type ProtectedRoute,
  PUBLIC_ROUTES,
  SEARCH_SECRET,
} from './protected-routes.ts';

/** An API key row for `orgId` with `scopes`, and its secret. */
async function insertKey(orgId: string, scopes: Permission[]) {
  const { secret, prefix, hash } = await generateApiKey('test');
  const id = newId('apiKey');
  await testDb().insert(apiKeys).values({ id, orgId, name: 'isolation', prefix, hash, scopes });
  return { id, secret };
}

const ALL_ORG_PERMISSIONS = ROLE_PERMISSIONS.owner;

function request(route: ProtectedRoute, a: Fixture, headers: Record<string, string>) {
  const upload = route.upload?.();
  if (upload) {
    return call(route.path(a), {
      method: route.method,
      headers: { ...headers, 'Content-Type': upload.contentType },
      body: upload.bytes,
    });
  }
  const body = route.body?.(a);
  return call(route.path(a), {
    method: route.method,
    headers: { ...headers, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
}

/**
 * The most powerful role without `permission` (so the check is about that permission alone), nor
 * `or`, the second permission that would also let it in.
 */
function roleWithout(permission: Permission, or?: Permission): Role | undefined {
  return ROLES.find(
    (role) =>
      !ROLE_PERMISSIONS[role].includes(permission) &&
      (or === undefined || !ROLE_PERMISSIONS[role].includes(or)),
  );
}

const label = (r: ProtectedRoute) => `${r.method} ${r.route}`;

// Organisation B's content writes (its own data) are persisted by the queue consumer after the
// tests answer; let it drain before the file's environment closes, or its log lines outlive it.
// B's search rebuild starts its first page 10 s after it is requested: wait longer than that.
afterAll(() => untilQuiet({ quietMs: REBUILD_START_DELAY_SECONDS * 1_000 + 1_000 }), 60_000);

describe('tenant isolation and authentication on every protected route', () => {
  let a: Fixture;
  let aMembers: Partial<Record<Role, Member>>;
  let bOwner: Member;
  let bKeySecret: string;
  let secrets: string[];
  /**
   * One token per role of organisation A for the 403 checks: a token per route would open a
   * session per route, and past 50 live sessions the editor's oldest one (the fixture's
   * `sessionId`) would be revoked.
   */
  const roleTokens = new Map<Role, Promise<string>>();
  const roleToken = (role: Role) => {
    let token = roleTokens.get(role);
    if (!token) {
      token = tokenFor(aMembers[role]!).then((t) => t.token);
      roleTokens.set(role, token);
    }
    return token;
  };

  beforeAll(async () => {
    const tenantA = await createTenant('iso-a');
    const editor = await createMember(tenantA.orgId, 'editor');
    aMembers = { owner: tenantA.owner, editor };
    for (const role of ['admin', 'author', 'viewer'] as const) {
      aMembers[role] = await createMember(tenantA.orgId, role);
    }
    const target = await createMember(tenantA.orgId, 'viewer');
    const key = await insertKey(tenantA.orgId, ['content:read']);
    const invitationId = newId('invitation');
    await testDb()
      .insert(invitations)
      .values({
        id: invitationId,
        orgId: tenantA.orgId,
        email: 'invitee-a@example.com',
        role: 'viewer',
        tokenHash: [...crypto.getRandomValues(new Uint8Array(32))]
          .map((b) => b.toString(16).padStart(2, '0'))
          .join(''),
        expiresAt: new Date(Date.now() + 86_400_000),
      });
    const { sessionId } = await tokenFor(editor);
    const accessRuleId = newId('accessRule');
    await testDb().insert(accessRules).values({
      id: accessRuleId,
      list: 'deny',
      subjectType: 'ip',
      value: '192.0.2.200',
      reason: 'isolation fixture',
    });
    const operationId = newId('operation');
    await testDb()
      .insert(operations)
      .values({
        id: operationId,
        orgId: tenantA.orgId,
        kind: 'content.create',
        resourceType: 'content',
        resourceId: newId('content'),
      });
    const contentA = await insertContent(tenantA.orgId, {
      translations: { en: { title: 'Isolation secret title', body: 'Isolation secret body' } },
    });
    // A published item in A's search index: B's searches for its words must not find it.
    const searchable = await insertContent(tenantA.orgId, {
      status: 'published',
      translations: { en: { title: SEARCH_SECRET, body: 'Isolation searchable body' } },
    });
    const services = testServices();
    for (const snapshot of (
      await loadSnapshots(testDb(), tenantA.orgId, [searchable.id])
    ).values()) {
      expect(await indexContent(services, snapshot)).toMatchObject({ ok: true });
    }
    const synonymId = newId('synonym');
    await testDb()
      .insert(synonyms)
      .values({
        id: synonymId,
        orgId: tenantA.orgId,
        locale: 'en',
        kind: 'one_way',
        root: 'isolationsecretroot',
        terms: ['isolation secret synonym'],
      });
    const flagKey = 'isolation-secret-flag';
    const flagId = newId('flag');
    await testDb()
      .insert(flags)
      .values({
        id: flagId,
        orgId: tenantA.orgId,
        key: flagKey,
        type: 'string',
        variants: [{ key: 'secret', value: 'isolationsecretvariant' }],
        defaultVariant: 'secret',
        salt: 'isolationsecretsalt',
      });
    const experimentId = newId('experiment');
    await testDb()
      .insert(experiments)
      .values({
        id: experimentId,
        orgId: tenantA.orgId,
        key: 'isolation-secret-experiment',
        surface: 'search',
        variants: [
          { key: 'control', weight: 50, settings: {} },
          { key: 'isolationsecretarm', weight: 50, settings: { freshness_half_life_days: 9 } },
        ],
        primaryMetric: 'click_through_rate',
        salt: 'isolationsecretexperimentsalt',
      });
    const webhookSourceId = newId('webhookSource');
    await testDb()
      .insert(webhookSources)
      .values({
        id: webhookSourceId,
        orgId: tenantA.orgId,
        name: 'Isolation secret source',
        kind: 'standard',
        secretCiphertext: await sealSecret(
          { current: env.SECRETS_KEY },
          'whsec_aXNvbGF0aW9uLXNlY3JldC1zb3VyY2Uta2V5LTMyYg==',
          `webhook_sources:${webhookSourceId}`,
        ),
        config: { mapping: { external_id: '/id', title: '/title', default_locale: 'en' } },
      });
    const endpoint = await insertEndpoint(tenantA.orgId, env.SECRETS_KEY, {
      url: 'https://hooks.example.com/isolation-secret-endpoint',
      description: 'Isolation secret endpoint',
    });
    const webhookDeliveryId = await insertDelivery(tenantA.orgId, endpoint.id);
    const topicId = await insertTopic(tenantA.orgId, {
      label: 'Isolation secret topic',
      keywords: { ar: [], en: ['isolationsecretkeyword'] },
    });
    // A processed document whose passage names the search routes' words (search and ask).
    await readyDocument(tenantA.orgId, {
      title: 'Isolation secret handbook',
      chunks: [`The ${SEARCH_SECRET} is painted isolationsecretcolour.`],
    });
    const documentA = await insertDocument(tenantA.orgId, {
      title: 'Isolation secret document',
      uploadedBy: editor.userId,
    });
    a = {
      documentId: documentA.id,
      topicId,
      synonymId,
      webhookSourceId,
      webhookEndpointId: endpoint.id,
      webhookDeliveryId,
      contentId: contentA.id,
      contentSlug: contentA.slugs.en!,
      orgId: tenantA.orgId,
      ownerId: tenantA.owner.userId,
      ownerEmail: tenantA.owner.email,
      editorId: editor.userId,
      editorEmail: editor.email,
      targetId: target.userId,
      keyId: key.id,
      invitationId,
      sessionId,
      accessRuleId,
      operationId,
      flagKey,
      experimentId,
    };
    secrets = [
      // Not the flag's key: B's caller sends it in the path, and OFREP echoes the key asked for.
      flagId,
      'isolationsecretvariant',
      'isolationsecretsalt',
      experimentId,
      'isolation-secret-experiment',
      'isolationsecretarm',
      a.orgId,
      a.targetId,
      a.ownerId,
      a.ownerEmail,
      a.editorId,
      a.editorEmail,
      a.keyId,
      invitationId,
      sessionId,
      operationId,
      contentA.id,
      contentA.slugs.en!,
      'Isolation secret title',
      'Isolation secret body',
      synonymId,
      'isolationsecretroot',
      'isolation secret synonym',
      searchable.id,
      SEARCH_SECRET,
      webhookSourceId,
      'Isolation secret source',
      endpoint.id,
      webhookDeliveryId,
      'isolation-secret-endpoint',
      'Isolation secret endpoint',
      topicId,
      'Isolation secret handbook',
      'isolationsecretcolour',
      'Isolation secret topic',
      'isolationsecretkeyword',
      documentA.id,
      'Isolation secret document',
    ];
    const tenantB = await createTenant('iso-b');
    bOwner = tenantB.owner;
    bKeySecret = (await insertKey(tenantB.orgId, [...ALL_ORG_PERMISSIONS])).secret;
  });

  it('lists every /v1 and /ofrep route as protected or public', () => {
    const registered = createApp()
      .routes.filter(
        (r) => (r.path.startsWith('/v1/') || r.path.startsWith('/ofrep/')) && r.method !== 'ALL',
      )
      .map((r) => `${r.method} ${r.path}`);
    const listed = new Set([...PROTECTED_ROUTES.map(label), ...Object.keys(PUBLIC_ROUTES)]);
    expect([...new Set(registered)].filter((r) => !listed.has(r))).toEqual([]);
    expect([...listed].filter((r) => !registered.includes(r))).toEqual([]);
  });

  describe.each(PROTECTED_ROUTES.map((r) => [label(r), r] as const))('%s', (_, route) => {
    it('answers 401 without credentials', async () => {
      const response = await request(route, a, {});
      await expectProblem(response, 401);
      expect(response.headers.get('WWW-Authenticate')).toMatch(/^Bearer realm="sift"/);
    });

    it('answers 401 to a malformed token, a forged one, an expired one and an unknown key', async () => {
      const forger = await generateSigningKey('test-current');
      const claims = { sub: a.ownerId, org: a.orgId, role: 'owner' as const, sid: a.sessionId };
      const forged = await signAccessToken({ current: forger }, claims, audience());
      const expired = await signAccessToken(
        { current: JSON.parse(env.AUTH_SIGNING_KEY) },
        claims,
        audience(),
        Date.now() - 60 * 60_000,
      );
      const unknownKey = (await generateApiKey('test')).secret;
      for (const token of ['not-a-token', 'a.b.c', forged.token, expired.token, unknownKey]) {
        const response = await request(route, a, bearer(token));
        const problem = await expectProblem(response, 401);
        expect(problem.code).toBe('UNAUTHORIZED');
        expect(JSON.stringify(problem)).not.toContain(a.ownerEmail);
      }
    });

    it("shows nothing of another organisation's and changes none of it", async () => {
      const { token } = await tokenFor(bOwner);
      const callers: Array<[string, Record<string, string>]> = [['member', bearer(token)]];
      if (!route.userOnly) callers.push(['api key', bearer(bKeySecret)]);
      for (const [who, headers] of callers) {
        const response = await request(route, a, headers);
        const text = await response.clone().text();
        // `instance` repeats the path the caller asked for (with A's id in it); nothing else may.
        const { instance: _, ...body } = JSON.parse(text || '{}') as Record<string, unknown>;
        for (const secret of secrets) {
          expect(JSON.stringify(body), `${who}: ${secret}`).not.toContain(secret);
        }
        if (route.otherTenant === 'not_found') await expectProblem(response, 404);
        else if (route.otherTenant === 'forbidden') await expectProblem(response, 403);
        else if (!route.alsoAnswers?.includes(response.status)) {
          expect(response.status, `${who}: ${text}`).toBeLessThan(300);
        }
      }
    });

    it('answers 403 to a caller without the permission', async () => {
      const attempts: Array<Record<string, string>> = [];
      if (route.permission) {
        const role = roleWithout(route.permission, route.orPermission);
        if (role) attempts.push(bearer(await roleToken(role)));
        if (!route.userOnly) {
          const scopes = ALL_ORG_PERMISSIONS.filter(
            (p) => p !== route.permission && p !== route.orPermission,
          );
          attempts.push(bearer((await insertKey(a.orgId, scopes)).secret));
        }
      }
      // A user-only route refuses an API key whatever its scopes.
      if (route.userOnly) {
        attempts.push(bearer((await insertKey(a.orgId, [...ALL_ORG_PERMISSIONS])).secret));
      }
      expect(attempts.length, 'a caller that lacks the permission exists').toBeGreaterThan(0);
      for (const headers of attempts) {
        const problem = await expectProblem(await request(route, a, headers), 403);
        expect(problem.code).toBe('FORBIDDEN');
      }
    });
  });

  it("shows none of organisation A's documents to a search of B that asks for them", async () => {
    const { token } = await tokenFor(bOwner);
    for (const headers of [bearer(token), bearer(bKeySecret)]) {
      const response = await call('/v1/search?q=searchable+lighthouse&type=content,document', {
        headers,
      });
      const text = await response.text();
      expect(response.status, text).toBe(200);
      for (const secret of secrets) expect(text).not.toContain(secret);
    }
  });

  it("left organisation A's resources as they were", async () => {
    const db = testDb();
    const [key] = await db.select().from(apiKeys).where(eq(apiKeys.id, a.keyId));
    expect(key).toMatchObject({ revokedAt: null, replacedBy: null });
    const [editor] = await db
      .select()
      .from(memberships)
      .where(and(eq(memberships.orgId, a.orgId), eq(memberships.userId, a.editorId)));
    expect(editor?.role).toBe('editor');
    const [target] = await db
      .select()
      .from(memberships)
      .where(and(eq(memberships.orgId, a.orgId), eq(memberships.userId, a.targetId)));
    expect(target?.role).toBe('viewer');
    const [targetUser] = await db.select().from(users).where(eq(users.id, a.targetId));
    expect(targetUser?.disabledAt).toBeNull();
    const [invitation] = await db
      .select()
      .from(invitations)
      .where(eq(invitations.id, a.invitationId));
    expect(invitation).toMatchObject({ revokedAt: null, acceptedAt: null });
    const sessions = env.SESSIONS.get(env.SESSIONS.idFromName(a.editorId));
    expect(await sessions.isLive(a.sessionId)).toBe(true);
    const [rule] = await db.select().from(accessRules).where(eq(accessRules.id, a.accessRuleId));
    expect(rule).toBeDefined();
    // No write to A's item was accepted: the ledger never saw it, Postgres has version 1.
    expect(await ledgerOf(env, a.orgId).heads([a.contentId])).toEqual({});
    const [item] = await db.select().from(content).where(eq(content.id, a.contentId));
    expect(item).toMatchObject({ version: 1, deletedAt: null, tags: [] });
    // A's endpoint still points where A set it, enabled, with its one failed delivery.
    const [endpoint] = await db
      .select()
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.id, a.webhookEndpointId));
    expect(endpoint).toMatchObject({
      url: 'https://hooks.example.com/isolation-secret-endpoint',
      disabledAt: null,
      previousSecretCiphertext: null,
    });
    const deliveries = await db
      .select()
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.endpointId, a.webhookEndpointId));
    expect(deliveries.map((d) => [d.id, d.status])).toEqual([[a.webhookDeliveryId, 'failed']]);
    // A's document: unchanged, its original still stored, and nothing uploaded into A.
    const [document] = await db.select().from(documents).where(eq(documents.id, a.documentId));
    expect(document).toMatchObject({
      title: 'Isolation secret document',
      visibility: 'organization',
      version: 1,
    });
    expect(await storedKeys(a.orgId)).toEqual([`${a.orgId}/documents/${a.documentId}/original`]);
  });
});
