import { describe, expect, it } from 'vitest';
import { generateApiKey } from '../../../../shared/auth/api-keys.ts';
import type { Permission } from '../../../../shared/auth/permissions.ts';
import { apiKeys, operations } from '../../../../shared/db/schema/index.ts';
import type { ProblemDocument } from '../../../../shared/db/schema/operations.ts';
import { newId } from '../../../../shared/ids.ts';
import { OperationSchema } from '../../../../workers/api/routes/operations/schema.ts';
import { bearer, createMember, createTenant, tokenFor } from '../../auth.ts';
import { call, expectProblem, testDb } from '../../helpers.ts';

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
