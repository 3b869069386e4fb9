import { env } from 'cloudflare:workers';
import { and, eq } from 'drizzle-orm';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_RULES_KV_KEY, clearAccessRulesCache } from '../../../../shared/access/rules.ts';
import { generateApiKey } from '../../../../shared/auth/api-keys.ts';
import { apiKeys, auditLog } from '../../../../shared/db/schema/index.ts';
import { newId } from '../../../../shared/ids.ts';
import { bearer, createMember, createTenant, tokenFor } from '../../auth.ts';
import {
  call,
  captureLogs,
  DEAD_DATABASE_URL,
  eventually,
  expectProblem,
  testDb,
} from '../../helpers.ts';

type Rule = {
  id: string;
  list: 'allow' | 'deny';
  subject_type: 'ip' | 'api_key';
  value: string;
  reason: string;
  expires_at: string | null;
  created_by: string | null;
  created_at: string;
};

/** Four hex digits, never with a leading zero (so the text is already canonical). */
const group = () => (0x1000 + Math.floor(Math.random() * 0xefff)).toString(16);
/** A documentation-range IPv6 /64 of its own, so rules never touch another test's callers. */
const v6Network = () => `2001:db8:${group()}:${group()}`;

let admin: { token: string; userId: string };

beforeAll(async () => {
  const { orgId } = await createTenant('access-rules');
  const root = await createMember(orgId, 'owner', { superAdmin: true });
  admin = { token: (await tokenFor(root)).token, userId: root.userId };
});

const json = (body: unknown, token = admin.token) => ({
  method: 'POST',
  headers: { ...bearer(token), 'Content-Type': 'application/json' },
  body: JSON.stringify(body),
});

async function createRule(body: Record<string, unknown>): Promise<Rule> {
  const response = await call('/v1/admin/access-rules', json({ reason: 'test', ...body }));
  expect(response.status).toBe(201);
  return (await response.json()) as Rule;
}

const from = (ip: string, headers: Record<string, string> = {}) => ({
  headers: { 'CF-Connecting-IP': ip, ...headers },
});

async function keyOfNewOrg() {
  const { orgId } = await createTenant('access-key');
  const { secret, prefix, hash } = await generateApiKey('test');
  const id = newId('apiKey');
  await testDb()
    .insert(apiKeys)
    .values({ id, orgId, name: 'k', prefix, hash, scopes: ['content:read'] });
  return { id, secret };
}

let logs: ReturnType<typeof captureLogs> | undefined;
afterEach(() => {
  logs?.restore();
  logs = undefined;
});

describe('POST /v1/admin/access-rules', () => {
  it('puts an IP on the deny list: that IP then gets a 403 that names no rule', async () => {
    const ip = `${v6Network()}::7`;
    expect((await call('/v1/whoami', from(ip))).status).toBe(200);
    const rule = await createRule({ list: 'deny', subject_type: 'ip', value: ip, reason: 'abuse' });
    expect(rule).toMatchObject({
      list: 'deny',
      subject_type: 'ip',
      value: ip,
      reason: 'abuse',
      expires_at: null,
      created_by: admin.userId,
    });
    expect(rule.id).toMatch(/^acr_/);
    const response = await call('/v1/whoami', from(ip));
    const problem = await expectProblem(response, 403);
    expect(problem.code).toBe('FORBIDDEN');
    expect(problem.detail).toBe('Access denied by policy.');
    const body = JSON.stringify(problem);
    expect(body).not.toContain(rule.id);
    expect(body).not.toContain('abuse');
    // Routes outside /v1 are not subject to the lists.
    expect((await call('/health', from(ip))).status).toBe(200);
  });

  it('denies every address in a CIDR range and none outside it (IPv6 and IPv4)', async () => {
    const network = v6Network();
    await createRule({ list: 'deny', subject_type: 'ip', value: `${network}::/64` });
    expect((await call('/v1/whoami', from(`${network}::1`))).status).toBe(403);
    expect((await call('/v1/whoami', from(`${network}:ffff:ffff:ffff:ffff`))).status).toBe(403);
    expect((await call('/v1/whoami', from(`${v6Network()}::1`))).status).toBe(200);

    const octet = Math.floor(Math.random() * 64) * 4;
    await createRule({ list: 'deny', subject_type: 'ip', value: `198.51.100.${octet}/30` });
    expect((await call('/v1/whoami', from(`198.51.100.${octet + 3}`))).status).toBe(403);
    expect((await call('/v1/whoami', from(`::ffff:198.51.100.${octet + 1}`))).status).toBe(403);
    expect((await call('/v1/whoami', from(`198.51.100.${(octet + 4) % 256}`))).status).not.toBe(
      403,
    );
  });

  it('stores values in canonical form and refuses the same rule twice with 409', async () => {
    const network = v6Network();
    const [, , a, b] = network.split(':');
    const rule = await createRule({
      list: 'allow',
      subject_type: 'ip',
      value: `2001:DB8:${a!.toUpperCase()}:${b}:0:0:0:0/64`,
    });
    expect(rule.value).toBe(`${network}::/64`);
    const again = await call(
      '/v1/admin/access-rules',
      json({ list: 'allow', subject_type: 'ip', value: rule.value, reason: 'dup' }),
    );
    const problem = await expectProblem(again, 409);
    expect(problem.existing_id).toBe(rule.id);
  });

  it.each([
    [{ value: '10.0.0.1/8' }, 'body.value', 'did you mean 10.0.0.0/8?'],
    [{ value: '300.1.2.3' }, 'body.value', 'must be an IP address or CIDR range'],
    [{ value: '10.0.0.0/33' }, 'body.value', 'prefix out of range'],
    [{ subject_type: 'api_key', value: '10.0.0.1' }, 'body.value', 'must be an API key id'],
    [{ list: 'maybe' }, 'body.list', ''],
    [{ reason: '  ' }, 'body.reason', ''],
    [{ expires_at: '2001-01-01T00:00:00Z' }, 'body.expires_at', 'must be in the future'],
  ])('refuses %j naming %s', async (change, path, message) => {
    const body = {
      list: 'deny',
      subject_type: 'ip',
      value: '198.51.100.1',
      reason: 'x',
      ...change,
    };
    const problem = await expectProblem(await call('/v1/admin/access-rules', json(body)), 400);
    expect(problem.code).toBe('VALIDATION_FAILED');
    const error = problem.errors?.find((e) => e.path === path);
    expect(error?.message).toContain(message);
  });

  it('refuses a rule for an API key that does not exist with 422', async () => {
    const response = await call(
      '/v1/admin/access-rules',
      json({ list: 'deny', subject_type: 'api_key', value: newId('apiKey'), reason: 'x' }),
    );
    const problem = await expectProblem(response, 422);
    expect(problem.errors?.[0]?.path).toBe('body.value');
  });

  it('puts an API key on the deny list: requests with it get 403, from any IP', async () => {
    const key = await keyOfNewOrg();
    expect((await call('/v1/whoami', { headers: bearer(key.secret) })).status).toBe(200);
    await createRule({ list: 'deny', subject_type: 'api_key', value: key.id });
    const problem = await expectProblem(
      await call('/v1/whoami', { headers: bearer(key.secret) }),
      403,
    );
    expect(problem.detail).toBe('Access denied by policy.');
  });

  it('exempts an allow-listed IP from the rate limiter', async () => {
    const ip = `${v6Network()}::1`;
    await createRule({ list: 'allow', subject_type: 'ip', value: ip });
    for (let i = 0; i < 12; i++) {
      const response = await call('/v1/auth/login', {
        method: 'POST',
        headers: { 'CF-Connecting-IP': ip, 'Content-Type': 'application/json' },
        body: '{}',
      });
      expect(response.status).not.toBe(429);
      expect(response.headers.get('ratelimit')).toBeNull();
    }
  });

  it('lets deny win over allow for the same caller', async () => {
    const network = v6Network();
    await createRule({ list: 'allow', subject_type: 'ip', value: `${network}::/64` });
    await createRule({ list: 'deny', subject_type: 'ip', value: `${network}::9` });
    expect((await call('/v1/whoami', from(`${network}::9`))).status).toBe(403);
    expect((await call('/v1/whoami', from(`${network}::8`))).status).toBe(200);
  });

  it('records access_rule.create in the audit log', async () => {
    const rule = await createRule({
      list: 'deny',
      subject_type: 'ip',
      value: `${v6Network()}::/64`,
    });
    const row = await eventually(async () => {
      const [found] = await testDb()
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.action, 'access_rule.create'), eq(auditLog.targetId, rule.id)));
      return found;
    });
    expect(row).toMatchObject({ orgId: null, actorType: 'user', actorId: admin.userId });
    expect(row.data).toMatchObject({ list: 'deny', value: rule.value });
  });

  it('is for super admins only', async () => {
    const { owner } = await createTenant('access-rules-owner');
    const { token } = await tokenFor(owner);
    const body = { list: 'deny', subject_type: 'ip', value: '198.51.100.9', reason: 'x' };
    const forbidden = await expectProblem(
      await call('/v1/admin/access-rules', json(body, token)),
      403,
    );
    expect(forbidden.detail).toContain('"admin" permission');
    const key = await keyOfNewOrg();
    await expectProblem(await call('/v1/admin/access-rules', json(body, key.secret)), 403);
    await expectProblem(await call('/v1/admin/access-rules', { ...json(body), headers: {} }), 401);
  });
});

describe('GET /v1/admin/access-rules', () => {
  it('pages through the rules newest first', async () => {
    const created: string[] = [];
    for (let i = 0; i < 3; i++) {
      created.push(
        (await createRule({ list: 'deny', subject_type: 'ip', value: `${v6Network()}::/64` })).id,
      );
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const response = await call(`/v1/admin/access-rules?limit=2&list=deny${query}`, {
        headers: bearer(admin.token),
      });
      expect(response.status).toBe(200);
      const page = (await response.json()) as { items: Rule[]; next_cursor: string | null };
      expect(page.items.length).toBeLessThanOrEqual(2);
      for (const item of page.items) expect(item.list).toBe('deny');
      seen.push(...page.items.map((item) => item.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    const mine = seen.filter((id) => created.includes(id));
    expect(mine).toEqual([...created].reverse());
  });

  it('refuses a cursor it did not issue', async () => {
    const problem = await expectProblem(
      await call('/v1/admin/access-rules?cursor=nonsense', { headers: bearer(admin.token) }),
      400,
    );
    expect(problem.errors?.[0]?.path).toBe('query.cursor');
  });

  it('is for super admins only', async () => {
    const { owner } = await createTenant('access-rules-list');
    const { token } = await tokenFor(owner);
    await expectProblem(await call('/v1/admin/access-rules', { headers: bearer(token) }), 403);
  });
});

describe('DELETE /v1/admin/access-rules/{id}', () => {
  it('removes a rule: the IP is served again, and the deletion is audited', async () => {
    const ip = `${v6Network()}::5`;
    const rule = await createRule({ list: 'deny', subject_type: 'ip', value: ip });
    expect((await call('/v1/whoami', from(ip))).status).toBe(403);
    const del = { method: 'DELETE', headers: bearer(admin.token) };
    const response = await call(`/v1/admin/access-rules/${rule.id}`, del);
    expect(response.status).toBe(204);
    expect((await call('/v1/whoami', from(ip))).status).toBe(200);
    await expectProblem(await call(`/v1/admin/access-rules/${rule.id}`, del), 404);
    await eventually(async () => {
      const [found] = await testDb()
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.action, 'access_rule.delete'), eq(auditLog.targetId, rule.id)));
      return found;
    });
  });

  it('refuses a malformed id naming the path parameter', async () => {
    const problem = await expectProblem(
      await call('/v1/admin/access-rules/key_nope', {
        method: 'DELETE',
        headers: bearer(admin.token),
      }),
      400,
    );
    expect(problem.errors?.[0]?.path).toBe('path.id');
  });

  it('is for super admins only', async () => {
    const rule = await createRule({
      list: 'deny',
      subject_type: 'ip',
      value: `${v6Network()}::/64`,
    });
    const { owner } = await createTenant('access-rules-delete');
    const { token } = await tokenFor(owner);
    await expectProblem(
      await call(`/v1/admin/access-rules/${rule.id}`, { method: 'DELETE', headers: bearer(token) }),
      403,
    );
  });
});

describe('access rule snapshot', () => {
  it('is rewritten in KV on a change and read from there by an isolate without a copy', async () => {
    const ip = `${v6Network()}::3`;
    const rule = await createRule({ list: 'deny', subject_type: 'ip', value: ip });
    const snapshot = (await env.CACHE.get(ACCESS_RULES_KV_KEY, 'json')) as {
      rules: { id: string }[];
    };
    expect(snapshot.rules.map((r) => r.id)).toContain(rule.id);
    clearAccessRulesCache();
    expect((await call('/v1/whoami', from(ip))).status).toBe(403);
  });

  it('fails open, and logs why, when neither KV nor Postgres can be read', async () => {
    const ip = `${v6Network()}::4`;
    await createRule({ list: 'deny', subject_type: 'ip', value: ip });
    clearAccessRulesCache();
    logs = captureLogs();
    const brokenKv = {
      get: async () => {
        throw new Error('KV GET failed');
      },
      put: async () => {},
      delete: async () => {},
    };
    try {
      const response = await call('/v1/whoami', from(ip), {
        CACHE: brokenKv,
        DATABASE_URL: DEAD_DATABASE_URL,
      });
      expect(response.status).toBe(200);
      expect(logs.lines).toContainEqual(
        expect.objectContaining({ level: 'warn', msg: 'access rules unavailable; failing open' }),
      );
    } finally {
      clearAccessRulesCache();
    }
    expect((await call('/v1/whoami', from(ip))).status).toBe(403);
  });
});
