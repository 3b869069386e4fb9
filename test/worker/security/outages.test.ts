import { env } from 'cloudflare:workers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../../shared/auth/api-keys.ts';
import { loadSnapshots } from '../../../shared/content/store.ts';
import {
  accessRules,
  apiKeys,
  contentVersions,
  experiments,
  flags,
  operations,
  synonyms,
  webhookSources,
} from '../../../shared/db/schema/index.ts';
import { newId } from '../../../shared/ids.ts';
import { type Dependency, resetBreakers } from '../../../shared/resilience/circuit-breaker.ts';
import { sealSecret } from '../../../shared/secret-box.ts';
import { createApp } from '../../../workers/api/index.ts';
import {
  bearer,
  createMember,
  createTenant,
  type Member,
  TEST_PASSWORD,
  tokenFor,
} from '../auth.ts';
import { call, DEAD_DATABASE_URL, DEAD_URL, testDb, untilQuiet } from '../helpers.ts';
import { insertContent } from '../routes/content/fixtures.ts';
import { insertDocument } from '../routes/documents/fixtures.ts';
import { insertTopic } from '../routes/trends/fixtures.ts';
import { insertDelivery, insertEndpoint } from '../routes/webhooks/fixtures.ts';
import { type Fixture, PROTECTED_ROUTES, PUBLIC_ROUTES } from './protected-routes.ts';

/**
 * Every route × each dependency down: what the README promises for an outage, cell by cell. A
 * route answers from what it still has (the cache tiers, the ledger, a degraded search) or
 * says "unavailable" properly: a `503` problem with `Retry-After`. Never a `500`.
 *
 * Each outage gets a fresh organisation (so a write accepted in one column changes nothing the
 * next one reads) and one request per route, in the order of `PROTECTED_ROUTES`; breakers are
 * reset before each request, as each cell is a first encounter with the outage.
 */

/**
 * Every breaker's dependency but `llm`: the instruction models are Workers AI too (one URL), so
 * the `ai` column, with Workers AI unreachable, is their outage as well.
 */
type Outage = Exclude<Dependency, 'llm'>;

/** A KV namespace that is down: every call fails, as it would during an outage. */
const brokenKv = {
  get: async () => {
    throw new Error('KV GET failed: 503 Service Unavailable');
  },
  getWithMetadata: async () => {
    throw new Error('KV GET failed: 503 Service Unavailable');
  },
  put: async () => {
    throw new Error('KV PUT failed: 503 Service Unavailable');
  },
  delete: async () => {
    throw new Error('KV DELETE failed: 503 Service Unavailable');
  },
  list: async () => {
    throw new Error('KV LIST failed: 503 Service Unavailable');
  },
};

/** A queue producer that refuses every message, as a queue does during an incident. */
const refusingQueue = {
  send: async () => {
    throw new Error('Queue send failed: 503 Service Unavailable');
  },
  sendBatch: async () => {
    throw new Error('Queue sendBatch failed: 503 Service Unavailable');
  },
};

/** The bindings that put each dependency out of reach for one call. */
const DOWN: Record<Outage, Partial<Record<keyof Env, unknown>>> = {
  postgres: { DATABASE_URL: DEAD_DATABASE_URL },
  redis: { UPSTASH_REDIS_REST_URL: DEAD_URL },
  vector: { UPSTASH_VECTOR_REST_URL: DEAD_URL },
  ai: { WORKERS_AI_API_URL: DEAD_URL },
  queue: { WRITES: refusingQueue, EVENTS: refusingQueue, JOBS: refusingQueue },
  kv: { CACHE: brokenKv },
  qstash: { QSTASH_URL: DEAD_URL },
};
const OUTAGES = Object.keys(DOWN) as Outage[];

/**
 * What a cell must answer: `unavailable` is a `503` problem with `Retry-After` (the route needs
 * the dependency and says so); `answers` is anything but a 5xx (the route does without it);
 * a number is that exact status.
 */
type Expected = 'unavailable' | 'answers' | number;

/** The organisation a column works on, and who calls. */
type World = Fixture & {
  owner: Member;
  /** An access token of `owner`, with a live session. */
  ownerToken: string;
  invitationToken: string;
};

type Cell = {
  label: string;
  request: (w: World) => Promise<{ path: string; init: RequestInit }>;
};

const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

/** Every `/v1` route a signed-in owner (a super admin too) calls, then the public ones. */
const CELLS: Cell[] = [
  ...PROTECTED_ROUTES.map(
    (route): Cell => ({
      label: `${route.method} ${route.route}`,
      request: async (w) => {
        const body = route.body?.(w);
        // Logging out ends the session: that call gets a session of its own.
        const token =
          route.route === '/v1/auth/logout' ? (await tokenFor(w.owner)).token : w.ownerToken;
        const upload = route.upload?.();
        if (upload) {
          return {
            path: route.path(w),
            init: {
              method: route.method,
              headers: { ...bearer(token), 'Content-Type': upload.contentType },
              body: upload.bytes,
            },
          };
        }
        return {
          path: route.path(w),
          init: {
            method: route.method,
            headers: {
              ...bearer(token),
              ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
            },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          },
        };
      },
    }),
  ),
  {
    label: 'POST /v1/auth/signup',
    request: async () => ({
      path: '/v1/auth/signup',
      init: json({
        email: `outage-${crypto.randomUUID().slice(0, 8)}@example.com`,
        password: TEST_PASSWORD,
        name: 'Outage',
        organization: { name: 'Outage signup' },
      }),
    }),
  },
  {
    label: 'POST /v1/auth/login',
    request: async (w) => ({
      path: '/v1/auth/login',
      init: json({ email: w.owner.email, password: TEST_PASSWORD }),
    }),
  },
  {
    label: 'POST /v1/auth/refresh',
    request: async (w) => ({
      path: '/v1/auth/refresh',
      init: json({ refresh_token: (await tokenFor(w.owner)).refreshToken }),
    }),
  },
  {
    label: 'POST /v1/invitations/accept',
    request: async (w) => ({
      path: '/v1/invitations/accept',
      init: json({ token: w.invitationToken, password: TEST_PASSWORD, name: 'Invitee' }),
    }),
  },
  {
    label: 'GET /v1/whoami',
    request: async (w) => ({
      path: '/v1/whoami',
      init: { headers: bearer(w.ownerToken) },
    }),
  },
  // The ticket is issued with everything up; the connection is made during the outage.
  {
    label: 'GET /v1/realtime/connect',
    request: async (w) => {
      const channel = `org:${w.orgId}`;
      const issued = await call(
        '/v1/realtime/tickets',
        json({ channels: [channel] }, bearer(w.ownerToken)),
      );
      const { ticket } = (await issued.json()) as { ticket: string };
      return {
        path: `/v1/realtime/connect?${new URLSearchParams({ channel, ticket })}`,
        init: { headers: { Upgrade: 'websocket' } },
      };
    },
  },
  // Outside /v1.
  ...[
    '/health',
    '/ready',
    '/.well-known/jwks.json',
    '/openapi.json',
    '/docs',
    '/problems/not-found',
  ].map((path): Cell => ({ label: `GET ${path}`, request: async () => ({ path, init: {} }) })),
  // A search that asks for documents: Postgres vouches for every passage.
  {
    label: 'GET /v1/search (type=content,document)',
    request: async (w) => ({
      path: '/v1/search?q=lighthouse&type=content,document',
      init: { headers: bearer(w.ownerToken) },
    }),
  },
  // A create with an Idempotency-Key: its records live in Postgres.
  {
    label: 'POST /v1/content (Idempotency-Key)',
    request: async (w) => ({
      path: '/v1/content',
      init: json(
        { translations: { en: { title: 'Idempotent outage' } } },
        { ...bearer(w.ownerToken), 'Idempotency-Key': crypto.randomUUID() },
      ),
    }),
  },
];

/**
 * The cells that are not `answers`: what each route needs, from the README ("Failures", the
 * search fallbacks, "/ready"). Everything not listed must answer without the dependency.
 */
const NEEDS: Record<string, Partial<Record<Outage, Expected>>> = {
  // Users, memberships, invitations, keys, audit, settings and rules live in Postgres only.
  'GET /v1/auth/me': { postgres: 'unavailable' },
  'GET /v1/members': { postgres: 'unavailable' },
  'PATCH /v1/members/:user_id': { postgres: 'unavailable' },
  'DELETE /v1/members/:user_id': { postgres: 'unavailable' },
  'POST /v1/invitations': { postgres: 'unavailable' },
  'GET /v1/invitations': { postgres: 'unavailable' },
  'DELETE /v1/invitations/:id': { postgres: 'unavailable' },
  'POST /v1/invitations/accept': { postgres: 'unavailable' },
  'POST /v1/keys': { postgres: 'unavailable' },
  'GET /v1/keys': { postgres: 'unavailable' },
  'GET /v1/keys/:id': { postgres: 'unavailable' },
  'POST /v1/keys/:id/roll': { postgres: 'unavailable' },
  'DELETE /v1/keys/:id': { postgres: 'unavailable' },
  'GET /v1/audit-log': { postgres: 'unavailable' },
  'GET /v1/admin/access-rules': { postgres: 'unavailable' },
  'POST /v1/admin/access-rules': { postgres: 'unavailable' },
  'DELETE /v1/admin/access-rules/:id': { postgres: 'unavailable' },
  'PATCH /v1/admin/users/:user_id': { postgres: 'unavailable' },
  'POST /v1/auth/signup': { postgres: 'unavailable' },
  'POST /v1/auth/login': { postgres: 'unavailable' },
  'POST /v1/auth/refresh': { postgres: 'unavailable' },
  // Flags are managed in Postgres (evaluation reads snapshots; see the evaluate routes).
  'GET /v1/flags': { postgres: 'unavailable' },
  'POST /v1/flags': { postgres: 'unavailable' },
  'GET /v1/flags/:key': { postgres: 'unavailable' },
  'PATCH /v1/flags/:key': { postgres: 'unavailable' },
  'POST /v1/flags/:key/archive': { postgres: 'unavailable' },
  'GET /v1/experiments': { postgres: 'unavailable' },
  'POST /v1/experiments': { postgres: 'unavailable' },
  'GET /v1/experiments/:id': { postgres: 'unavailable' },
  'DELETE /v1/experiments/:id': { postgres: 'unavailable' },
  'POST /v1/experiments/:id/start': { postgres: 'unavailable' },
  'POST /v1/experiments/:id/pause': { postgres: 'unavailable' },
  'POST /v1/experiments/:id/stop': { postgres: 'unavailable' },
  'POST /v1/experiments/:id/promote': { postgres: 'unavailable' },
  'GET /v1/experiments/:id/results': { postgres: 'unavailable' },
  'GET /v1/recommendations/settings': { postgres: 'unavailable' },
  'PUT /v1/recommendations/settings': { postgres: 'unavailable' },
  'GET /v1/search/synonyms': { postgres: 'unavailable' },
  'POST /v1/search/synonyms': { postgres: 'unavailable' },
  'GET /v1/search/synonyms/:id': { postgres: 'unavailable' },
  'PUT /v1/search/synonyms/:id': { postgres: 'unavailable' },
  'DELETE /v1/search/synonyms/:id': { postgres: 'unavailable' },
  'GET /v1/search/settings': { postgres: 'unavailable' },
  'PUT /v1/search/settings': { postgres: 'unavailable' },
  'GET /v1/analytics/search': { postgres: 'unavailable' },
  'GET /v1/ai/settings': { postgres: 'unavailable' },
  'PUT /v1/ai/settings': { postgres: 'unavailable' },
  'GET /v1/ai/usage': { postgres: 'unavailable' },
  // Inbound webhook sources and feed sources live in Postgres only.
  'GET /v1/webhooks/sources': { postgres: 'unavailable' },
  'POST /v1/webhooks/sources': { postgres: 'unavailable' },
  'GET /v1/webhooks/sources/:id': { postgres: 'unavailable' },
  'PATCH /v1/webhooks/sources/:id': { postgres: 'unavailable' },
  'DELETE /v1/webhooks/sources/:id': { postgres: 'unavailable' },
  'POST /v1/webhooks/sources/:id/rotate-secret': { postgres: 'unavailable' },
  'GET /v1/webhooks/sources/:id/deliveries': { postgres: 'unavailable' },
  'POST /v1/webhooks/sources/:id/poll': { postgres: 'unavailable' },
  // A ticket is kept in Redis; an organisation channel's presence is its object alone.
  'POST /v1/realtime/tickets': { postgres: 'unavailable', redis: 'unavailable' },
  // Outbound webhook endpoints and deliveries live in Postgres. A test event, replay or recovery
  // that QStash cannot take now is recorded as due: the sweeper hands it over later.
  'GET /v1/webhooks/endpoints': { postgres: 'unavailable' },
  'POST /v1/webhooks/endpoints': { postgres: 'unavailable' },
  'GET /v1/webhooks/endpoints/:id': { postgres: 'unavailable' },
  'PATCH /v1/webhooks/endpoints/:id': { postgres: 'unavailable' },
  'DELETE /v1/webhooks/endpoints/:id': { postgres: 'unavailable' },
  'POST /v1/webhooks/endpoints/:id/disable': { postgres: 'unavailable' },
  'POST /v1/webhooks/endpoints/:id/enable': { postgres: 'unavailable' },
  'POST /v1/webhooks/endpoints/:id/rotate-secret': { postgres: 'unavailable' },
  'POST /v1/webhooks/endpoints/:id/test': { postgres: 'unavailable' },
  'GET /v1/webhooks/endpoints/:id/deliveries': { postgres: 'unavailable' },
  'GET /v1/webhooks/endpoints/:id/deliveries/:delivery_id': { postgres: 'unavailable' },
  'POST /v1/webhooks/endpoints/:id/deliveries/:delivery_id/replay': { postgres: 'unavailable' },
  'POST /v1/webhooks/endpoints/:id/recover': { postgres: 'unavailable' },
  // A queued operation only Postgres holds (the ledger never saw it).
  'GET /v1/operations/:id': { postgres: 'unavailable' },
  // Content: reads and writes go on from the cache tiers and the ledger with Postgres down;
  // listing, slugs and history need Postgres; every write needs the queue.
  'GET /v1/content/:id': { postgres: 200, redis: 200, kv: 200 },
  'GET /v1/content/by-slug/:locale/:slug': { postgres: 'unavailable' },
  'GET /v1/content': { postgres: 'unavailable' },
  'POST /v1/content': { postgres: 202, queue: 'unavailable' },
  'POST /v1/content (Idempotency-Key)': { postgres: 'unavailable', queue: 'unavailable' },
  'GET /v1/search (type=content,document)': { postgres: 'unavailable' },
  'PUT /v1/content/:id': { postgres: 202, queue: 'unavailable' },
  'PATCH /v1/content/:id': { postgres: 202, queue: 'unavailable' },
  'DELETE /v1/content/:id': { postgres: 202, queue: 'unavailable' },
  // Deleted just before with Postgres down, so restored; not deleted when the queue refused.
  'POST /v1/content/:id/restore': { postgres: 202, queue: 409 },
  'POST /v1/content/:id/transitions': { postgres: 202, queue: 'unavailable' },
  'POST /v1/content/bulk': { postgres: 202, queue: 'unavailable' },
  'GET /v1/content/:id/versions': { postgres: 'unavailable' },
  'GET /v1/content/:id/versions/:version': { postgres: 'unavailable' },
  'GET /v1/content/:id/diff': { postgres: 'unavailable' },
  'POST /v1/content/:id/versions/:version/restore': {
    postgres: 'unavailable',
    queue: 'unavailable',
  },
  // Search: the vector results stand without Postgres, Postgres answers without the index, the
  // keyword side without Workers AI. Clicks go through the EVENTS queue.
  'GET /v1/search': { postgres: 200, vector: 200, ai: 200 },
  'POST /v1/search': { postgres: 200, vector: 200, ai: 200 },
  'POST /v1/search/clicks': { queue: 'unavailable' },
  // Neighbours: the index or the events answer alone; the item is read through the cache tiers.
  'GET /v1/content/:id/similar': { postgres: 200, vector: 200 },
  // Recommendations: without Postgres a reader with no recent items in Redis has nothing to go
  // on (no history, no trending); without Redis or the index the rest answers.
  'GET /v1/recommendations': { postgres: 'unavailable' },
  // Trending is counted from the events in Postgres.
  'GET /v1/trending': { postgres: 'unavailable' },
  'GET /v1/trending/facets': { postgres: 'unavailable' },
  // Trends are read from the topics the cron job keeps in Postgres.
  'GET /v1/trends': { postgres: 'unavailable' },
  'GET /v1/trends/:id': { postgres: 'unavailable' },
  // Events go through the EVENTS queue; Redis only spots repeats (without it, Postgres does).
  'POST /v1/events': { queue: 'unavailable' },
  // A rebuild reads Postgres, keeps its state in Redis and starts through the JOBS queue.
  'POST /v1/search/reindex': {
    postgres: 'unavailable',
    redis: 'unavailable',
    queue: 'unavailable',
  },
  // Documents' metadata lives in Postgres only (their files in R2).
  // Uploads and reprocessing queue the processing through the JOBS queue; the index and Redis
  // follow a change or a delete after the answer (Postgres is the authority).
  'POST /v1/documents': { postgres: 'unavailable', queue: 'unavailable' },
  'GET /v1/documents': { postgres: 'unavailable' },
  'GET /v1/documents/:id': { postgres: 'unavailable' },
  'GET /v1/documents/:id/original': { postgres: 'unavailable' },
  'GET /v1/documents/:id/text': { postgres: 'unavailable' },
  'POST /v1/documents/:id/reprocess': { postgres: 'unavailable', queue: 'unavailable' },
  'PATCH /v1/documents/:id': { postgres: 'unavailable' },
  'DELETE /v1/documents/:id': { postgres: 'unavailable' },
  // Questions: Postgres vouches for every passage; without it nothing can be answered. Redis
  // down: uncached; the vector index or Workers AI down: the keyword sides answer (degraded).
  'POST /v1/ask': { postgres: 'unavailable' },
  // Readiness names what is down (the model and the queues are not probed).
  'GET /ready': {
    postgres: 'unavailable',
    redis: 'unavailable',
    vector: 'unavailable',
    kv: 'unavailable',
  },
};

function expected(label: string, outage: Outage): Expected {
  return NEEDS[label]?.[outage] ?? 'answers';
}

/** Organisation A of one column: the resources the routes name, and a content item in cache. */
async function world(label: string): Promise<World> {
  const { orgId, owner: first } = await createTenant(label);
  const owner = await createMember(orgId, 'owner', { superAdmin: true });
  const editor = await createMember(orgId, 'editor');
  const target = await createMember(orgId, 'viewer');
  const db = testDb();
  const keyId = newId('apiKey');
  const { prefix, hash } = await generateApiKey('test');
  await db.insert(apiKeys).values({
    id: keyId,
    orgId,
    name: 'outage',
    prefix,
    hash,
    scopes: ['content:read'],
  });
  const accessRuleId = newId('accessRule');
  await db.insert(accessRules).values({
    id: accessRuleId,
    list: 'deny',
    subjectType: 'ip',
    // An address no test calls from: a deny rule is platform-wide.
    value: `2001:db8:ffff:${Math.floor(Math.random() * 0xffff).toString(16)}::1`,
    reason: 'outage suite',
  });
  const operationId = newId('operation');
  await db.insert(operations).values({
    id: operationId,
    orgId,
    kind: 'content.create',
    resourceType: 'content',
    resourceId: newId('content'),
  });
  const flagKey = 'outage-flag';
  await db.insert(flags).values({
    id: newId('flag'),
    orgId,
    key: flagKey,
    type: 'boolean',
    variants: [
      { key: 'on', value: true },
      { key: 'off', value: false },
    ],
    defaultVariant: 'off',
    salt: 'outage',
  });
  const experimentId = newId('experiment');
  await db.insert(experiments).values({
    id: experimentId,
    orgId,
    key: 'outage-experiment',
    surface: 'search',
    variants: [
      { key: 'control', weight: 50, settings: {} },
      { key: 'fresher', weight: 50, settings: { freshness_half_life_days: 7 } },
    ],
    primaryMetric: 'click_through_rate',
    salt: 'outage',
  });
  const synonymId = newId('synonym');
  await db.insert(synonyms).values({
    id: synonymId,
    orgId,
    locale: 'en',
    kind: 'multi_way',
    terms: ['outage one', 'outage two'],
  });
  const webhookSourceId = newId('webhookSource');
  await db.insert(webhookSources).values({
    id: webhookSourceId,
    orgId,
    name: 'Outage source',
    kind: 'standard',
    secretCiphertext: await sealSecret(
      { current: env.SECRETS_KEY },
      'whsec_b3V0YWdlLXNvdXJjZS1zaWduaW5nLWtleS0zMmI=',
      `webhook_sources:${webhookSourceId}`,
    ),
    config: { mapping: { external_id: '/id', title: '/title', default_locale: 'en' } },
  });
  const endpoint = await insertEndpoint(orgId, env.SECRETS_KEY);
  const webhookDeliveryId = await insertDelivery(orgId, endpoint.id);
  const topicId = await insertTopic(orgId);
  const documentId = (await insertDocument(orgId)).id;
  const item = await insertContent(orgId, {
    version: 2,
    translations: { en: { title: 'Outage lighthouse', body: 'Seen once, cached since.' } },
  });
  // Version 1 in the history, unlike the item now: restoring it is a real change (a write).
  const [current] = [...(await loadSnapshots(testDb(), orgId, [item.id])).values()];
  await testDb()
    .insert(contentVersions)
    .values({
      contentId: item.id,
      orgId,
      version: 1,
      status: 'draft',
      snapshot: {
        ...current!,
        version: 1,
        translations: { en: { ...current!.translations.en!, title: 'Outage lighthouse, first' } },
      },
    });
  const ownerToken = (await tokenFor(owner)).token;
  // Read once with everything up: the cache tiers now hold the item (the README's promise).
  expect((await call(`/v1/content/${item.id}`, { headers: bearer(ownerToken) })).status).toBe(200);
  const invited = await call(
    '/v1/invitations',
    json(
      { email: `invitee-${crypto.randomUUID().slice(0, 8)}@example.com`, role: 'viewer' },
      bearer(ownerToken),
    ),
  );
  expect(invited.status).toBe(201);
  const invitation = (await invited.json()) as { invitation: { id: string }; token: string };
  return {
    orgId,
    owner,
    ownerToken,
    ownerId: first.userId,
    ownerEmail: first.email,
    editorId: editor.userId,
    editorEmail: editor.email,
    targetId: target.userId,
    keyId,
    invitationId: invitation.invitation.id,
    invitationToken: invitation.token,
    sessionId: (await tokenFor(editor)).sessionId,
    accessRuleId,
    operationId,
    contentId: item.id,
    contentSlug: item.slugs.en!,
    synonymId,
    webhookSourceId,
    webhookEndpointId: endpoint.id,
    webhookDeliveryId,
    topicId,
    documentId,
    flagKey,
    experimentId,
  };
}

// Writes accepted with a dependency down drain afterwards; let the consumers finish.
afterAll(() => untilQuiet(), 60_000);

describe('every route answers a dependency outage as the README promises', () => {
  it('covers every /v1 and /ofrep route', () => {
    const registered = createApp()
      .routes.filter(
        (r) => (r.path.startsWith('/v1/') || r.path.startsWith('/ofrep/')) && r.method !== 'ALL',
      )
      .map((r) => `${r.method} ${r.path}`);
    const covered = new Set(CELLS.map((cell) => cell.label));
    expect([...new Set(registered)].filter((r) => !covered.has(r))).toEqual([]);
    expect(Object.keys(PUBLIC_ROUTES).filter((r) => !covered.has(r))).toEqual([]);
    expect(Object.keys(NEEDS).filter((label) => !covered.has(label))).toEqual([]);
  });

  describe.each(OUTAGES)('with %s down', (outage) => {
    let w: World;
    beforeAll(async () => {
      resetBreakers();
      w = await world(`outage-${outage}`);
    });

    it.each(CELLS.map((cell) => [cell.label, cell] as const))('%s', async (label, cell) => {
      resetBreakers();
      const { path, init } = await cell.request(w);
      const response = await call(path, init, DOWN[outage]);
      // A download (a document's original) is bytes, not text: described, not decoded.
      const type = response.headers.get('content-type') ?? '';
      const text = /^(text\/|application\/([a-z.+-]*\+)?json)/.test(type)
        ? await response.text()
        : `${(await response.arrayBuffer()).byteLength} bytes of ${type}`;
      const want = expected(label, outage);
      const status = response.status;
      if (status === 503) {
        expect(response.headers.get('content-type'), text).toBe('application/problem+json');
        expect(Number(response.headers.get('retry-after')), text).toBeGreaterThan(0);
      }
      if (want === 'unavailable') expect(status, text).toBe(503);
      else if (want === 'answers') expect(status, text).toBeLessThan(500);
      else expect(status, text).toBe(want);
    });
  });
});
