import { env } from 'cloudflare:workers';
import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { createMember, createTenant, signingKeys, TEST_PASSWORD } from '../../auth.ts';
import { call } from '../../helpers.ts';
import { login, type TokenBody } from '../../support/auth-routes.ts';

async function fetchJwks(): Promise<{ response: Response; body: JSONWebKeySet }> {
  const response = await call('/.well-known/jwks.json');
  return { response, body: (await response.json()) as JSONWebKeySet };
}

describe('GET /.well-known/jwks.json', () => {
  it('publishes both signing keys, public halves only, cacheable for 5 minutes', async () => {
    const { response, body } = await fetchJwks();
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    const { current, previous } = signingKeys();
    expect(body.keys.map((k) => k.kid).sort()).toEqual([current.kid, previous.kid].sort());
    for (const key of body.keys) {
      expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
      expect(key).not.toHaveProperty('d');
    }
    expect(JSON.stringify(body)).not.toContain(current.d);
    expect(JSON.stringify(body)).not.toContain(previous.d);
  });

  it('verifies a token from login with jose and the published set', async () => {
    const { orgId, owner } = await createTenant('jwks');
    const tokens = (await (
      await login({ email: owner.email, password: TEST_PASSWORD })
    ).json()) as TokenBody;
    const { body } = await fetchJwks();
    const { payload, protectedHeader } = await jwtVerify(
      tokens.access_token,
      createLocalJWKSet(body),
      {
        issuer: env.AUTH_ISSUER,
        audience: env.AUTH_AUDIENCE,
        typ: 'at+jwt',
        algorithms: ['ES256'],
      },
    );
    expect(protectedHeader).toMatchObject({
      alg: 'ES256',
      typ: 'at+jwt',
      kid: signingKeys().current.kid,
    });
    expect(payload).toMatchObject({
      sub: owner.userId,
      org: orgId,
      role: 'owner',
      sid: tokens.session_id,
      iss: env.AUTH_ISSUER,
      aud: env.AUTH_AUDIENCE,
    });
    expect(payload.exp! - payload.iat!).toBe(900);
    expect(Math.abs(payload.iat! - Date.now() / 1000)).toBeLessThan(60);
    expect(payload).not.toHaveProperty('sa');
  });

  it('marks a super admin with the sa claim', async () => {
    const { orgId } = await createTenant('jwkssa');
    const admin = await createMember(orgId, 'viewer', { superAdmin: true });
    const tokens = (await (
      await login({ email: admin.email, password: TEST_PASSWORD })
    ).json()) as TokenBody;
    expect(decodeProtectedHeader(tokens.access_token).typ).toBe('at+jwt');
    const { body } = await fetchJwks();
    const { payload } = await jwtVerify(tokens.access_token, createLocalJWKSet(body), {
      issuer: env.AUTH_ISSUER,
      audience: env.AUTH_AUDIENCE,
    });
    expect(payload).toMatchObject({ sa: true, role: 'viewer' });
  });

  it('needs no credentials, and ignores bad ones (it is outside /v1)', async () => {
    const response = await call('/.well-known/jwks.json', {
      headers: { Authorization: 'Bearer nonsense' },
    });
    expect(response.status).toBe(200);
  });
});
