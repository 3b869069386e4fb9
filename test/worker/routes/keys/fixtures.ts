import { eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { generateApiKey } from '../../../../shared/auth/api-keys.ts';
import type { Permission, Role } from '../../../../shared/auth/permissions.ts';
import { apiKeys, auditLog } from '../../../../shared/db/schema/index.ts';
import { newId } from '../../../../shared/ids.ts';
import { bearer, createMember, createTenant, tokenFor } from '../../auth.ts';
import { call, eventually, testDb } from '../../helpers.ts';

/** A fresh organisation and a signed-in member (owner unless `role` says otherwise). */
export async function signedIn(label: string, role: Role = 'owner') {
  const tenant = await createTenant(label);
  const member = role === 'owner' ? tenant.owner : await createMember(tenant.orgId, role);
  const { token } = await tokenFor(member);
  return { orgId: tenant.orgId, member, token, auth: bearer(token) };
}

/** A JSON request. */
export function json(method: string, body: unknown, headers: Record<string, string> = {}) {
  return {
    method,
    headers: { ...headers, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  } satisfies RequestInit;
}

export type KeyBody = {
  id: string;
  name: string;
  prefix: string;
  scopes: Permission[];
  rate_limit: { limit: number; window_seconds: number } | null;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
  replaced_by: string | null;
  grace_until: string | null;
  created_by: string | null;
  created_at: string;
  secret?: string;
};

/** Creates a key through the API and returns it with its secret. */
export async function createKey(
  auth: Record<string, string>,
  body: Record<string, unknown> = {},
): Promise<KeyBody & { secret: string }> {
  const response = await call(
    '/v1/keys',
    json('POST', { name: 'test key', scopes: ['keys:manage', 'search'], ...body }, auth),
  );
  expect(response.status).toBe(201);
  return (await response.json()) as KeyBody & { secret: string };
}

/** A key row straight into Postgres (for states the API cannot produce, like a past expiry). */
export async function insertKey(
  orgId: string,
  overrides: Partial<typeof apiKeys.$inferInsert> = {},
) {
  const { secret, prefix, hash } = await generateApiKey('test');
  const id = newId('apiKey');
  await testDb()
    .insert(apiKeys)
    .values({ id, orgId, name: 'inserted', prefix, hash, scopes: ['keys:manage'], ...overrides });
  return { id, secret };
}

export async function keyRow(id: string) {
  const [row] = await testDb().select().from(apiKeys).where(eq(apiKeys.id, id));
  return row;
}

/** The audit row of `action` on `targetId`, once the EVENTS consumer has written it. */
export function auditedEventually(action: string, targetId: string) {
  return eventually(async () => {
    const rows = await testDb().select().from(auditLog).where(eq(auditLog.targetId, targetId));
    return rows.find((row) => row.action === action);
  }, 20_000);
}

/** The fields a key view has: no hash, no secret. */
export const KEY_FIELDS = [
  'created_at',
  'created_by',
  'expires_at',
  'grace_until',
  'id',
  'last_used_at',
  'name',
  'prefix',
  'publishable',
  'rate_limit',
  'replaced_by',
  'revoked_at',
  'scopes',
].sort();
