/**
 * Refresh tokens are opaque to clients: `srt_<userId>.<sessionId>.<secret>`, the secret 32
 * random bytes in base64url. The user id says which `SESSIONS` object holds the session, the
 * session id which family inside it; only the SHA-256 of the whole token is ever stored.
 */
export const REFRESH_TOKEN_PREFIX = 'srt_';
const SECRET_BYTES = 32;

const TOKEN =
  /^srt_(usr_[0-7][0-9a-hjkmnp-tv-z]{25})\.(ses_[0-7][0-9a-hjkmnp-tv-z]{25})\.([A-Za-z0-9_-]{43})$/;

export type ParsedRefreshToken = { userId: string; sessionId: string };

/** A new refresh token for a session (a fresh 256-bit secret each time). */
export function newRefreshToken(userId: string, sessionId: string): string {
  return `${REFRESH_TOKEN_PREFIX}${userId}.${sessionId}.${randomToken(SECRET_BYTES)}`;
}

/** The user and session a token names, or undefined when it is not a refresh token at all. */
export function parseRefreshToken(token: string): ParsedRefreshToken | undefined {
  const match = TOKEN.exec(token);
  return match ? { userId: match[1]!, sessionId: match[2]! } : undefined;
}

/** SHA-256 of the token, lowercase hex: what the `SESSIONS` object stores and compares. */
export function hashRefreshToken(token: string): Promise<string> {
  return sha256Hex(token);
}

/** SHA-256 of a UTF-8 string, lowercase hex. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** `bytes` random bytes (a secret), base64url without padding. */
export function randomToken(bytes: number): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(bytes))))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '');
}
