import { env } from 'cloudflare:test';
import { afterEach, describe, expect, it } from 'vitest';
import { ledgerOf } from '../../../../durable-objects/content-ledger.ts';
import { generateApiKey } from '../../../../shared/auth/api-keys.ts';
import type { Permission } from '../../../../shared/auth/permissions.ts';
import type { ContentSnapshot } from '../../../../shared/db/schema/content.ts';
import { apiKeys, operations } from '../../../../shared/db/schema/index.ts';
import type { ProblemDocument } from '../../../../shared/db/schema/operations.ts';
import { newId } from '../../../../shared/ids.ts';
import { resetBreakers } from '../../../../shared/resilience/circuit-breaker.ts';
import { OperationSchema } from '../../../../workers/api/routes/operations/schema.ts';
import { bearer, createMember, createTenant, tokenFor } from '../../auth.ts';
import { call, DEAD_DATABASE_URL, eventually, expectProblem, testDb } from '../../helpers.ts';

afterEach(() => resetBreakers());

/** A fresh organisation and a viewer's credentials (the least role that may read operations). */
async function viewer(label: string) {
  const { orgId } = await createTenant(label);
  const member = await createMember(orgId, 'viewer');
  return { orgId, auth: bearer((await tokenFor(member)).token) };
}

async function insertKey(orgId: string, scopes: Permission[]) {
  const { secret, prefix, hash } = await generateApiKey('test');
  await testDb()
    .insert(apiKeys)
    .values({ id: newId('apiKey'), orgId, name: 'ops', prefix, hash, scopes });
  return bearer(secret);
}

async function insertOperation(
  orgId: string,
  values: Partial<typeof operations.$inferInsert> = {},
) {
  const id = newId('operation');
  await testDb()
    .insert(operations)
    .values({ id, orgId, kind: 'content.create', ...values });
  return id;
}

const FIELDS = [
  'completed_at',
  'created_at',
  'error',
  'id',
  'items',
  'kind',
  'progress',
  'resource',
  'started_at',
  'status',
  'updated_at',
].sort();

describe('GET /v1/operations/{id}', () => {
  it('returns a queued operation with Retry-After: 1', async () => {
    const { orgId, auth } = await viewer('ops-get');
    const contentId = newId('content');
    const id = await insertOperation(orgId, { resourceType: 'content', resourceId: contentId });
    const response = await call(`/v1/operations/${id}`, { headers: auth });
    expect(response.status).toBe(200);
    expect(response.headers.get('retry-after')).toBe('1');
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(FIELDS);
    expect(OperationSchema.parse(body)).toMatchObject({
      id,
      kind: 'content.create',
      status: 'queued',
      resource: { type: 'content', id: contentId },
      progress: null,
      items: null,
      error: null,
      started_at: null,
      completed_at: null,
    });
    expect(JSON.stringify(body)).not.toContain(orgId);
  });

  it('returns a running operation with its progress and Retry-After: 1', async () => {
    const { orgId, auth } = await viewer('ops-get');
    const startedAt = new Date(Date.now() - 2_000);
    const id = await insertOperation(orgId, {
      kind: 'content.bulk_create',
      status: 'running',
      progress: { done: 250, total: 1000 },
      startedAt,
    });
    const response = await call(`/v1/operations/${id}`, { headers: auth });
    expect(response.status).toBe(200);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(await response.json()).toMatchObject({
      status: 'running',
      resource: null,
      progress: { done: 250, total: 1000 },
      started_at: startedAt.toISOString(),
      completed_at: null,
    });
  });

  it('returns an applied operation without Retry-After', async () => {
    const { orgId, auth } = await viewer('ops-get');
    const completedAt = new Date();
    const id = await insertOperation(orgId, {
      status: 'applied',
      resourceType: 'content',
      resourceId: newId('content'),
      startedAt: new Date(completedAt.getTime() - 50),
      completedAt,
    });
    const response = await call(`/v1/operations/${id}`, { headers: auth });
    expect(response.status).toBe(200);
    expect(response.headers.get('retry-after')).toBeNull();
    expect(await response.json()).toMatchObject({
      id,
      status: 'applied',
      error: null,
      completed_at: completedAt.toISOString(),
    });
  });

  it('returns a failed operation with its problem document', async () => {
    const { orgId, auth } = await viewer('ops-get');
    const error: ProblemDocument = {
      type: '/problems/conflict',
      title: 'Conflict',
      status: 409,
      detail: 'Version 3 was already written.',
      code: 'CONFLICT',
      request_id: newId('request'),
      allowed: ['draft'],
    };
    const id = await insertOperation(orgId, {
      status: 'failed',
      error,
      startedAt: new Date(),
      completedAt: new Date(),
    });
    const response = await call(`/v1/operations/${id}`, { headers: auth });
    expect(response.status).toBe(200);
    expect(response.headers.get('retry-after')).toBeNull();
    const body = OperationSchema.parse(await response.json());
    expect(body.status).toBe('failed');
    expect(body.error).toEqual(error);
  });

  it('lets an API key with content:read read it', async () => {
    const { orgId } = await createTenant('ops-get');
    const id = await insertOperation(orgId);
    const response = await call(`/v1/operations/${id}`, {
      headers: await insertKey(orgId, ['content:read']),
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { id: string }).id).toBe(id);
  });

  it("answers 404 for another organisation's operation, showing nothing of it", async () => {
    const other = await createTenant('ops-other');
    const id = await insertOperation(other.orgId, {
      kind: 'content.secret_kind',
      resourceType: 'content',
      resourceId: 'cnt_should_not_leak',
    });
    const { auth } = await viewer('ops-get');
    const response = await call(`/v1/operations/${id}`, { headers: auth });
    const problem = await expectProblem(response, 404);
    expect(problem.code).toBe('NOT_FOUND');
    const { instance: _, ...rest } = problem;
    const text = JSON.stringify(rest);
    for (const secret of [id, other.orgId, 'content.secret_kind', 'cnt_should_not_leak']) {
      expect(text).not.toContain(secret);
    }
    expect(response.headers.get('retry-after')).toBeNull();
  });

  it('answers 404 for an unknown operation id', async () => {
    const { auth } = await viewer('ops-get');
    const problem = await expectProblem(
      await call(`/v1/operations/${newId('operation')}`, { headers: auth }),
      404,
    );
    expect(problem.detail).toBe('There is no such operation.');
  });

  it.each([
    ['not an id', 'nope'],
    ['another kind of id', newId('content')],
    ['a truncated id', newId('operation').slice(0, -1)],
  ])('answers 400 naming path.id for %s', async (_, id) => {
    const { auth } = await viewer('ops-get');
    const problem = await expectProblem(await call(`/v1/operations/${id}`, { headers: auth }), 400);
    expect(problem.code).toBe('VALIDATION_FAILED');
    expect(problem.errors?.[0]?.path).toBe('path.id');
  });

  it('answers 403 to an API key without content:read', async () => {
    const { orgId } = await createTenant('ops-get');
    const id = await insertOperation(orgId);
    const response = await call(`/v1/operations/${id}`, {
      headers: await insertKey(orgId, ['search', 'keys:manage']),
    });
    const problem = await expectProblem(response, 403);
    expect(problem.code).toBe('FORBIDDEN');
    expect(problem.permission).toBe('content:read');
  });

  it('answers 401 without credentials', async () => {
    const { orgId } = await createTenant('ops-get');
    const id = await insertOperation(orgId);
    await expectProblem(await call(`/v1/operations/${id}`), 401);
  });
});

const POSTGRES_DOWN = { DATABASE_URL: DEAD_DATABASE_URL };

/** A new item's first version, as the edge would plan it. */
function firstVersion(orgId: string): ContentSnapshot {
  const now = new Date().toISOString();
  const id = newId('content');
  return {
    id,
    org_id: orgId,
    status: 'draft',
    version: 1,
    category_id: null,
    tags: [],
    metadata: {},
    default_locale: 'en',
    publish_at: null,
    unpublish_at: null,
    published_at: null,
    created_by: null,
    updated_by: null,
    created_at: now,
    updated_at: now,
    deleted_at: null,
    translations: { en: { title: 'Pending', summary: null, body: '', slug: `pending-${id}` } },
  };
}

/**
 * A write the organisation's ledger accepted (reserved and settled as sent) that never reaches
 * the queue, so it stays pending: the state of every write between its 202 and the consumer.
 * With `settle: false` it stays reserved, as while the edge is still sending it.
 */
async function pendingWrite(orgId: string, { settle = true } = {}) {
  const ledger = ledgerOf(env, orgId);
  const operationId = newId('operation');
  const snapshot = firstVersion(orgId);
  const { token } = await ledger.reserve([
    { operation_id: operationId, action: 'create', base: 0, snapshot },
  ]);
  expect(token).not.toBeNull();
  if (settle) await ledger.settle(token!, [operationId]);
  return { operationId, contentId: snapshot.id, release: () => ledger.settle(token!, []) };
}

describe('GET /v1/operations/{id} for content writes not yet in Postgres', () => {
  it('answers queued or applied right after POST /v1/content, then applied', async () => {
    const { orgId } = await createTenant('ops-write');
    const editor = bearer((await tokenFor(await createMember(orgId, 'editor'))).token);
    const created = await call('/v1/content', {
      method: 'POST',
      headers: { ...editor, 'Content-Type': 'application/json' },
      body: JSON.stringify({ translations: { en: { title: 'Tracked' } } }),
    });
    expect(created.status).toBe(202);
    const { content, operation } = (await created.json()) as {
      content: { id: string };
      operation: { id: string; url: string };
    };
    const first = await call(operation.url, { headers: editor });
    expect(first.status).toBe(200);
    const body = OperationSchema.parse(await first.json());
    expect(body).toMatchObject({
      id: operation.id,
      kind: 'content.create',
      resource: { type: 'content', id: content.id },
      error: null,
    });
    expect(['queued', 'applied']).toContain(body.status);
    expect(first.headers.get('retry-after')).toBe(body.status === 'queued' ? '1' : null);

    const applied = await eventually(async () => {
      const response = await call(operation.url, { headers: editor });
      const view = OperationSchema.parse(await response.json());
      return view.status === 'applied' && { view, response };
    }, 15_000);
    expect(applied.view.completed_at).not.toBeNull();
    expect(applied.response.headers.get('retry-after')).toBeNull();
  });

  it('answers a write only the ledger holds as queued, also while Postgres is down', async () => {
    const { orgId, auth } = await viewer('ops-pending');
    const { operationId, contentId } = await pendingWrite(orgId);
    for (const overrides of [{}, POSTGRES_DOWN]) {
      const response = await call(`/v1/operations/${operationId}`, { headers: auth }, overrides);
      expect(response.status).toBe(200);
      expect(response.headers.get('retry-after')).toBe('1');
      const body = (await response.json()) as Record<string, unknown>;
      expect(Object.keys(body).sort()).toEqual(FIELDS);
      expect(OperationSchema.parse(body)).toMatchObject({
        id: operationId,
        kind: 'content.create',
        status: 'queued',
        resource: { type: 'content', id: contentId },
        progress: null,
        items: null,
        error: null,
        started_at: null,
        completed_at: null,
      });
      expect(Date.now() - Date.parse(body.created_at as string)).toBeLessThan(60_000);
    }
  });

  it('answers 503 when Postgres is down and the ledger does not know the operation', async () => {
    const { auth } = await viewer('ops-pg-down');
    const response = await call(
      `/v1/operations/${newId('operation')}`,
      { headers: auth },
      POSTGRES_DOWN,
    );
    const problem = await expectProblem(response, 503);
    expect(problem.code).toBe('SERVICE_UNAVAILABLE');
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it("answers 404 for another organisation's pending write", async () => {
    const other = await createTenant('ops-pending-other');
    const { operationId } = await pendingWrite(other.orgId);
    const { auth } = await viewer('ops-pending');
    const problem = await expectProblem(
      await call(`/v1/operations/${operationId}`, { headers: auth }),
      404,
    );
    expect(problem.detail).toBe('There is no such operation.');
  });

  it('answers 404 for a write still being sent (reserved, not yet taken by the queue)', async () => {
    const { orgId, auth } = await viewer('ops-reserved');
    const { operationId, release } = await pendingWrite(orgId, { settle: false });
    try {
      await expectProblem(await call(`/v1/operations/${operationId}`, { headers: auth }), 404);
    } finally {
      await release();
    }
  });
});
