import { signDelivery } from '../webhook-sources/signature.ts';

/** Standard Webhooks' headers for one attempt. */
export type AttemptHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

/**
 * Signs one attempt per Standard Webhooks: `v1,` and the base64 HMAC-SHA256 of
 * `<webhook-id>.<webhook-timestamp>.<body>` under each secret (the current one first; during a
 * rotation's grace period the previous one too), space-separated, so a receiver holding either
 * secret verifies it. Called when the attempt is made, so a retry hours later carries a fresh
 * timestamp.
 */
export async function signAttempt(
  secrets: readonly string[],
  id: string,
  timestamp: number,
  body: string,
): Promise<AttemptHeaders> {
  if (secrets.length === 0) throw new Error('at least one secret is needed to sign');
  const signatures = await Promise.all(
    secrets.map(
      async (secret) =>
        (await signDelivery('standard', secret, body, { id, timestamp }))['webhook-signature']!,
    ),
  );
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signatures.join(' '),
  };
}
