import { base64url, SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  generateSigningKey,
  jwks,
  type KeyRing,
  signAccessToken,
  signingKeySetting,
  verifyAccessToken,
} from '../../../shared/auth/tokens.ts';

const AUD = { issuer: 'https://api.sift.test', audience: 'sift-api' };
const CLAIMS = { sub: 'usr_1', org: 'org_1', role: 'editor', sid: 'ses_1' } as const;

async function ring(): Promise<KeyRing> {
  const [current, previous] = await Promise.all([
    generateSigningKey('k-current'),
    generateSigningKey('k-previous'),
  ]);
  return { current, previous };
}

/** Re-signs `payload` with a header of our choosing, as an attacker would. */
async function forge(
  keys: KeyRing,
  header: Record<string, unknown>,
  payload: Record<string, unknown> = {},
  key = keys.current,
) {
  const { importJWK } = await import('jose');
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ ...CLAIMS, ...payload })
    .setProtectedHeader({ alg: 'ES256', ...header })
    .setIssuer(AUD.issuer)
    .setAudience(AUD.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + 900)
    .sign(await importJWK(key, 'ES256'));
}

describe('access tokens', () => {
  it('signs ES256 at+jwt tokens with kid and the Sift claims, valid for 15 minutes', async () => {
    const keys = await ring();
    const { token, expiresAt } = await signAccessToken(keys, CLAIMS, AUD);
    const [header, payload] = token
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(new TextDecoder().decode(base64url.decode(part))));
    expect(header).toEqual({ alg: 'ES256', kid: 'k-current', typ: 'at+jwt' });
    expect(payload).toMatchObject({ ...CLAIMS, iss: AUD.issuer, aud: AUD.audience });
    expect(payload.exp - payload.iat).toBe(900);
    expect(expiresAt.getTime()).toBe(payload.exp * 1000);
    const verified = await verifyAccessToken(keys, token, AUD);
    expect(verified).toMatchObject({ ok: true, claims: CLAIMS });
  });

  it('accepts tokens signed by the previous key during a rotation', async () => {
    const keys = await ring();
    const old = await signAccessToken({ current: keys.previous! }, CLAIMS, AUD);
    expect((await verifyAccessToken(keys, old.token, AUD)).ok).toBe(true);
    // Once the previous key is dropped, its tokens stop verifying.
    expect(await verifyAccessToken({ current: keys.current }, old.token, AUD)).toEqual({
      ok: false,
      reason: 'unknown_kid',
    });
  });

  it('rejects alg "none"', async () => {
    const keys = await ring();
    const unsecured = new UnsecuredJWT({ ...CLAIMS })
      .setIssuer(AUD.issuer)
      .setAudience(AUD.audience)
      .setIssuedAt()
      .setExpirationTime('15m')
      .encode();
    expect(await verifyAccessToken(keys, unsecured, AUD)).toEqual({
      ok: false,
      reason: 'bad_algorithm',
    });
  });

  it('rejects HS256 signed with the public key (algorithm confusion)', async () => {
    const keys = await ring();
    const publicJwk = JSON.stringify(jwks(keys).keys[0]);
    const now = Math.floor(Date.now() / 1000);
    const confused = await new SignJWT({ ...CLAIMS })
      .setProtectedHeader({ alg: 'HS256', kid: 'k-current', typ: 'at+jwt' })
      .setIssuer(AUD.issuer)
      .setAudience(AUD.audience)
      .setIssuedAt(now)
      .setExpirationTime(now + 900)
      .sign(new TextEncoder().encode(publicJwk));
    expect(await verifyAccessToken(keys, confused, AUD)).toEqual({
      ok: false,
      reason: 'bad_algorithm',
    });
  });

  it('rejects a wrong typ, a missing typ and an unknown kid', async () => {
    const keys = await ring();
    expect(
      await verifyAccessToken(keys, await forge(keys, { kid: 'k-current', typ: 'JWT' }), AUD),
    ).toEqual({ ok: false, reason: 'bad_type' });
    expect(await verifyAccessToken(keys, await forge(keys, { kid: 'k-current' }), AUD)).toEqual({
      ok: false,
      reason: 'bad_type',
    });
    expect(
      await verifyAccessToken(keys, await forge(keys, { kid: 'k-other', typ: 'at+jwt' }), AUD),
    ).toEqual({ ok: false, reason: 'unknown_kid' });
  });

  it('rejects a token signed by another key under a known kid (forgery)', async () => {
    const keys = await ring();
    const attacker = await generateSigningKey('k-current');
    const forged = await forge(keys, { kid: 'k-current', typ: 'at+jwt' }, {}, attacker);
    expect(await verifyAccessToken(keys, forged, AUD)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('rejects a tampered payload', async () => {
    const keys = await ring();
    const { token } = await signAccessToken(keys, CLAIMS, AUD);
    const [h, p, s] = token.split('.');
    const payload = JSON.parse(new TextDecoder().decode(base64url.decode(p!)));
    const elevated = base64url.encode(JSON.stringify({ ...payload, role: 'owner' }));
    expect(await verifyAccessToken(keys, `${h}.${elevated}.${s}`, AUD)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('rejects the wrong issuer or audience', async () => {
    const keys = await ring();
    const { token } = await signAccessToken(keys, CLAIMS, AUD);
    expect(await verifyAccessToken(keys, token, { ...AUD, issuer: 'https://evil.test' })).toEqual({
      ok: false,
      reason: 'bad_issuer',
    });
    expect(await verifyAccessToken(keys, token, { ...AUD, audience: 'other' })).toEqual({
      ok: false,
      reason: 'bad_audience',
    });
  });

  it('accepts an expired token only within the 30 s leeway', async () => {
    const keys = await ring();
    const issued = Date.now() - 15 * 60_000;
    const { token } = await signAccessToken(keys, CLAIMS, AUD, issued);
    expect((await verifyAccessToken(keys, token, AUD, issued + 15 * 60_000 + 20_000)).ok).toBe(
      true,
    );
    expect(await verifyAccessToken(keys, token, AUD, issued + 15 * 60_000 + 31_000)).toEqual({
      ok: false,
      reason: 'expired',
    });
  });

  it('rejects a token issued in the future beyond the 30 s skew', async () => {
    const keys = await ring();
    const now = Date.now();
    const { token } = await signAccessToken(keys, CLAIMS, AUD, now + 60_000);
    expect(await verifyAccessToken(keys, token, AUD, now)).toEqual({
      ok: false,
      reason: 'issued_in_future',
    });
    expect((await verifyAccessToken(keys, token, AUD, now + 31_000)).ok).toBe(true);
  });

  it('rejects a token whose lifetime is longer than 15 minutes, whatever its exp says', async () => {
    const keys = await ring();
    const now = Math.floor(Date.now() / 1000);
    // Signed by a holder of the key with a far exp: iat bounds its age all the same.
    const { importJWK } = await import('jose');
    const token = await new SignJWT({ ...CLAIMS })
      .setProtectedHeader({ alg: 'ES256', kid: 'k-current', typ: 'at+jwt' })
      .setIssuer(AUD.issuer)
      .setAudience(AUD.audience)
      .setIssuedAt(now - 20 * 60)
      .setExpirationTime(now + 24 * 3600)
      .sign(await importJWK(keys.current, 'ES256'));
    expect(await verifyAccessToken(keys, token, AUD)).toEqual({ ok: false, reason: 'expired' });
  });

  it('carries the session generation in gen', async () => {
    const keys = await ring();
    const { token } = await signAccessToken(keys, { ...CLAIMS, gen: 3 }, AUD);
    expect(await verifyAccessToken(keys, token, AUD)).toMatchObject({
      ok: true,
      claims: { ...CLAIMS, gen: 3 },
    });
  });

  it('rejects garbage and tokens missing Sift claims', async () => {
    const keys = await ring();
    for (const garbage of ['', 'abc', 'a.b.c', 'eyJhbGciOiJFUzI1NiJ9..']) {
      expect((await verifyAccessToken(keys, garbage, AUD)).ok).toBe(false);
    }
    const noRole = await forge(keys, { kid: 'k-current', typ: 'at+jwt' }, { role: 'emperor' });
    expect(await verifyAccessToken(keys, noRole, AUD)).toEqual({
      ok: false,
      reason: 'bad_claims',
    });
  });

  it('publishes only public keys in the JWKS', async () => {
    const keys = await ring();
    const set = jwks(keys);
    expect(set.keys.map((k) => k.kid)).toEqual(['k-current', 'k-previous']);
    for (const key of set.keys) {
      expect(key).not.toHaveProperty('d');
      expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    }
  });

  it('validates the signing-key setting without echoing it', async () => {
    expect(signingKeySetting.safeParse('not json').error?.issues[0]?.message).toBe(
      'must be a JSON Web Key (JSON)',
    );
    const { d: _d, ...publicOnly } = await generateSigningKey('x');
    const result = signingKeySetting.safeParse(JSON.stringify(publicOnly));
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error)).not.toContain(publicOnly.x);
  });
});
