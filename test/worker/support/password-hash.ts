const base64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/=+$/, '');

/**
 * A v1 PBKDF2 hash with fewer iterations than the policy, as an older deployment would have
 * stored it, computed here with WebCrypto rather than by the code under test.
 */
export async function weakHash(password: string, iterations: number): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(password.normalize('NFKC')),
    'PBKDF2',
    false,
    ['deriveBits'],
  );
  const bits = await crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
    key,
    256,
  );
  return `$pbkdf2-sha256$v=1$i=${iterations}$${base64(salt)}$${base64(new Uint8Array(bits))}`;
}
