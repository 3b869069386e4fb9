import {
  type CryptoKey,
  decodeProtectedHeader,
  errors,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from 'jose';
import { z } from 'zod';
import { Role } from './permissions.ts';

/** Access tokens live 15 minutes; refresh tokens (opaque, in `SESSIONS`) carry sessions on. */
export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
/** Clock skew tolerated when checking `exp`, `iat` and `nbf`. */
export const CLOCK_TOLERANCE_SECONDS = 30;
/** The only algorithm issued or accepted: verification never trusts the token's own `alg`. */
export const ALGORITHM = 'ES256';
export const ACCESS_TOKEN_TYPE = 'at+jwt';

/** A signing key as the `AUTH_SIGNING_KEY` secrets hold it: a private EC P-256 JWK with `kid`. */
export const SigningJwk = z
  .object({
    kty: z.literal('EC'),
    crv: z.literal('P-256'),
    x: z.string().min(1),
    y: z.string().min(1),
    d: z.string().min(1),
    kid: z.string().min(1),
    alg: z.literal(ALGORITHM).optional(),
  })
  .catchall(z.unknown());
export type SigningJwk = z.infer<typeof SigningJwk>;

/** Parses a signing-key secret; the rule names what is wrong, never the key. */
export const signingKeySetting = z.string().transform((value, ctx) => {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be a JSON Web Key (JSON)' });
    return z.NEVER;
  }
  const parsed = SigningJwk.safeParse(json);
  if (!parsed.success) {
    ctx.addIssue({
      code: 'custom',
      message: 'must be a private EC P-256 JWK with kid (npm run auth:keygen makes one)',
    });
    return z.NEVER;
  }
  return parsed.data;
});

/** A new signing key, as `npm run auth:keygen` prints it and the dev and test setups use it. */
export async function generateSigningKey(kid?: string): Promise<SigningJwk> {
  const { privateKey } = await generateKeyPair(ALGORITHM, { extractable: true });
  const jwk = await exportJWK(privateKey);
  return SigningJwk.parse({
    ...jwk,
    kid: kid ?? `sift-${new Date().toISOString().slice(0, 10)}-${crypto.randomUUID().slice(0, 8)}`,
    alg: ALGORITHM,
  });
}

export type KeyRing = {
  /** Signs every new token. */
  current: SigningJwk;
  /** Still accepted and published (the key being rotated out, or the next one being rolled in). */
  previous?: SigningJwk | undefined;
};

export type AccessTokenClaims = {
  sub: string;
  org: string;
  role: Role;
  sid: string;
  /**
   * The session's generation when the token was issued (0 at sign-in, +1 per refresh): a token
   * below the session's minimum is refused (`shared/auth/session-state.ts`). Absent means 0.
   */
  gen?: number;
  /** Present (and true) only for platform super admins. */
  sa?: true;
};

export type TokenAudience = { issuer: string; audience: string };

// Imported CryptoKeys by kid + role; keys change only on deploy, so an isolate imports each once.
const imported = new Map<string, Promise<CryptoKey>>();

function importKey(jwk: SigningJwk, use: 'sign' | 'verify'): Promise<CryptoKey> {
  const cacheKey = `${use}:${jwk.kid}:${jwk.x}`;
  let key = imported.get(cacheKey);
  if (!key) {
    const { d, ...publicJwk } = jwk;
    key = importJWK(
      use === 'sign' ? { ...jwk, alg: ALGORITHM } : { ...publicJwk, alg: ALGORITHM },
      ALGORITHM,
    ) as Promise<CryptoKey>;
    imported.set(cacheKey, key);
  }
  return key;
}

/** Signs a 15-minute access token for one user in one organisation and session. */
export async function signAccessToken(
  ring: KeyRing,
  claims: AccessTokenClaims,
  { issuer, audience }: TokenAudience,
  now = Date.now(),
): Promise<{ token: string; expiresAt: Date }> {
  const iat = Math.floor(now / 1000);
  const exp = iat + ACCESS_TOKEN_TTL_SECONDS;
  const token = await new SignJWT({ ...claims } as unknown as JWTPayload)
    .setProtectedHeader({ alg: ALGORITHM, kid: ring.current.kid, typ: ACCESS_TOKEN_TYPE })
    .setIssuer(issuer)
    .setAudience(audience)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .setJti(crypto.randomUUID())
    .sign(await importKey(ring.current, 'sign'));
  return { token, expiresAt: new Date(exp * 1000) };
}

const VerifiedClaims = z.object({
  sub: z.string().min(1),
  org: z.string().min(1),
  role: Role,
  sid: z.string().min(1),
  gen: z.number().int().nonnegative().optional(),
  sa: z.literal(true).optional(),
});

/** Why a token was refused: logged and audited, never told to the client beyond "invalid". */
export type TokenRejection =
  | 'malformed'
  | 'unknown_kid'
  | 'bad_algorithm'
  | 'bad_type'
  | 'bad_signature'
  | 'expired'
  | 'issued_in_future'
  | 'bad_issuer'
  | 'bad_audience'
  | 'bad_claims';

export type TokenVerification =
  | { ok: true; claims: AccessTokenClaims & { exp: number; iat: number } }
  | { ok: false; reason: TokenRejection };

/**
 * Verifies an access token (RFC 8725): ES256 only, whatever the header says (so `alg: none`
 * and HS256-with-the-public-key confusion fail), `typ` must be `at+jwt`, the `kid` must be one
 * of the ring's keys, and `iss`, `aud`, `exp` and the Sift claims must hold. `iat` must not lie
 * in the future nor further back than a token's lifetime (a key holder minting tokens dated
 * ahead would otherwise outlive every bound on their age); each time check allows 30 s of skew.
 */
export async function verifyAccessToken(
  ring: KeyRing,
  token: string,
  { issuer, audience }: TokenAudience,
  now = Date.now(),
): Promise<TokenVerification> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (header.alg !== ALGORITHM) return { ok: false, reason: 'bad_algorithm' };
  if (header.typ !== ACCESS_TOKEN_TYPE) return { ok: false, reason: 'bad_type' };
  const jwk = [ring.current, ring.previous].find((k) => k && k.kid === header.kid);
  if (!jwk) return { ok: false, reason: 'unknown_kid' };
  try {
    const { payload } = await jwtVerify(token, await importKey(jwk, 'verify'), {
      algorithms: [ALGORITHM],
      typ: ACCESS_TOKEN_TYPE,
      issuer,
      audience,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      maxTokenAge: ACCESS_TOKEN_TTL_SECONDS,
      requiredClaims: ['sub', 'iat', 'exp', 'iss', 'aud'],
      currentDate: new Date(now),
    });
    const claims = VerifiedClaims.safeParse(payload);
    if (!claims.success) return { ok: false, reason: 'bad_claims' };
    return {
      ok: true,
      claims: { ...claims.data, exp: payload.exp as number, iat: payload.iat as number },
    };
  } catch (error) {
    return { ok: false, reason: rejection(error) };
  }
}

function rejection(error: unknown): TokenRejection {
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'bad_signature';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iat' && error.reason === 'check_failed') return 'issued_in_future';
    if (error.claim === 'iss') return 'bad_issuer';
    if (error.claim === 'aud') return 'bad_audience';
    if (error.claim === 'typ') return 'bad_type';
    return 'bad_claims';
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return 'bad_algorithm';
  return 'malformed';
}

/** The public half of the ring, as `/.well-known/jwks.json` serves it. */
export function jwks(ring: KeyRing): { keys: JWK[] } {
  return {
    keys: [ring.current, ring.previous]
      .filter((k): k is SigningJwk => k !== undefined)
      .map(({ kty, crv, x, y, kid }) => ({ kty, crv, x, y, kid, alg: ALGORITHM, use: 'sig' })),
  };
}
