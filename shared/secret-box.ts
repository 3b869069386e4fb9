import { z } from 'zod';

/**
 * Secrets Sift must read back in clear (the signing secrets of webhook endpoints and sources: a
 * signature is made or checked with the secret itself, so it cannot be hashed) are sealed with
 * AES-256-GCM under a key kept outside the database (`SECRETS_KEY`). A sealed value is
 * `v1.<kid>.<iv>.<ciphertext>` (base64url, the GCM tag at the end of the ciphertext); the key id
 * says which key sealed it, so a key can be rotated: the new key seals, the previous one
 * (`SECRETS_PREVIOUS_KEY`) still opens, and {@link openSecret} says when a value should be sealed
 * again. The additional data binds a value to where it is stored (`webhook_sources:<id>`), so a
 * ciphertext copied to another row does not open.
 */

/** A key setting: `<kid>.<32 bytes, base64url>` (`npm run secrets:keygen` prints one). */
const KEY_PATTERN = /^([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9_-]{43})$/;

export const secretsKeySetting = z
  .string()
  .regex(KEY_PATTERN, 'must be `<kid>.<32 random bytes, base64url>` (npm run secrets:keygen)');

export type SecretKeys = { current: string; previous?: string | undefined };

function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text.replaceAll('-', '+').replaceAll('_', '/'));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

type Key = { kid: string; key: ReturnType<typeof crypto.subtle.importKey> };

// Importing a key costs a little; the settings are the same for every request an isolate serves.
const imported = new Map<string, Key>();

function importKey(setting: string): Key {
  const cached = imported.get(setting);
  if (cached) return cached;
  const match = KEY_PATTERN.exec(setting);
  if (!match) throw new Error('secret key setting is malformed');
  const raw = fromBase64Url(match[2]!);
  if (raw.length !== 32) throw new Error('secret key must be 32 bytes');
  const key = {
    kid: match[1]!,
    key: crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']),
  };
  imported.set(setting, key);
  return key;
}

const encoder = new TextEncoder();

/** Seals `plaintext` under the current key, bound to `context` (where it is stored). */
export async function sealSecret(
  keys: SecretKeys,
  plaintext: string,
  context: string,
): Promise<string> {
  const { kid, key } = importKey(keys.current);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ciphertext = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: encoder.encode(context) },
    await key,
    encoder.encode(plaintext),
  );
  return `v1.${kid}.${toBase64Url(iv)}.${toBase64Url(new Uint8Array(ciphertext))}`;
}

/** A sealed value that cannot be opened: unknown key, another context, or tampered with. */
export class SecretUnreadable extends Error {
  override name = 'SecretUnreadable';
}

/**
 * Opens a value {@link sealSecret} made. `stale` is true when the previous key sealed it: the
 * caller should seal it again (with the current key) when it next writes the row.
 */
export async function openSecret(
  keys: SecretKeys,
  sealed: string,
  context: string,
): Promise<{ plaintext: string; stale: boolean }> {
  const parts = sealed.split('.');
  if (parts.length !== 4 || parts[0] !== 'v1')
    throw new SecretUnreadable('not a sealed secret (v1.<kid>.<iv>.<ciphertext>)');
  const [, kid, iv, ciphertext] = parts as [string, string, string, string];
  const candidates = [keys.current, keys.previous].filter((k): k is string => Boolean(k));
  const match = candidates.map(importKey).find((key) => key.kid === kid);
  if (!match) throw new SecretUnreadable(`sealed with key "${kid}", which is not configured`);
  try {
    const plaintext = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: fromBase64Url(iv), additionalData: encoder.encode(context) },
      await match.key,
      fromBase64Url(ciphertext),
    );
    return {
      plaintext: new TextDecoder().decode(plaintext),
      stale: match !== importKey(keys.current),
    };
  } catch {
    throw new SecretUnreadable(`does not open with key "${kid}" for ${context}`);
  }
}

/** A new key setting for `SECRETS_KEY`: `<kid>.<32 random bytes>`. */
export function generateSecretsKey(
  kid = `k${new Date().toISOString().slice(0, 10).replaceAll('-', '')}`,
) {
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(kid)) throw new Error('kid must be 1–32 of [A-Za-z0-9_-]');
  return `${kid}.${toBase64Url(crypto.getRandomValues(new Uint8Array(32)))}`;
}
