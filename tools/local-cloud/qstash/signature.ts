import { createHash } from 'node:crypto';
import { SignJWT } from 'jose';
import { randomId } from './ids.ts';

/** QStash's JWTs live 5 minutes (upstash.com/docs/qstash/features/security). */
const LIFETIME_SECONDS = 300;

/**
 * The `Upstash-Signature` of one delivery: an HS256 JWT keyed by the signing key's UTF-8 bytes,
 * with `sub` the exact destination URL and `body` the base64url SHA-256 of the raw body. QStash
 * keeps the `=` padding on `body` (its docs' example token); `Receiver` strips it before comparing.
 */
export async function signDelivery(options: {
  signingKey: string;
  url: string;
  body: Uint8Array;
  now: number;
}): Promise<string> {
  const digest = createHash('sha256').update(options.body).digest('base64url');
  const body = digest.padEnd(Math.ceil(digest.length / 4) * 4, '=');
  const iat = Math.floor(options.now / 1000);
  return new SignJWT({ body })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer('Upstash')
    .setSubject(options.url)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + LIFETIME_SECONDS)
    .setJti(randomId('jwt_'))
    .sign(new TextEncoder().encode(options.signingKey));
}
