import { generateSecretsKey } from '../../shared/secret-box.ts';

/**
 * `npm run secrets:keygen [kid]`: prints a new secret-box key (`<kid>.<32 random bytes>`), ready
 * for `wrangler secret put SECRETS_KEY`. README: "Rotating the secrets key".
 */
console.log(generateSecretsKey(process.argv[2]));
