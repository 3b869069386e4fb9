import { generateSigningKey } from '../../shared/auth/tokens.ts';

/**
 * `npm run auth:keygen [kid]`: prints a new access-token signing key (a private ES256 JWK) on
 * one line, ready for `wrangler secret put AUTH_SIGNING_KEY`. README: "Rotating signing keys".
 */
const key = await generateSigningKey(process.argv[2]);
console.log(JSON.stringify(key));
