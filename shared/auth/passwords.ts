import commonPasswords from '@zxcvbn-ts/language-common/dist/passwords.json.mjs';

/**
 * Password storage: PBKDF2-HMAC-SHA256 through WebCrypto, at the most iterations the Workers
 * runtime allows (100,000), a 16-byte random salt per hash, stored in PHC string format with a
 * version (`$pbkdf2-sha256$v=1$i=100000$<salt>$<hash>`) so a login can see that a hash is older
 * than the current policy and upgrade it. Comparison is constant-time.
 */
export const PASSWORD_ITERATIONS = 100_000;
export const PASSWORD_HASH_VERSION = 1;
const SALT_BYTES = 16;
const HASH_BYTES = 32;

/** NIST SP 800-63B: length first, no composition rules, a blocklist of known passwords. */
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;

const encoder = new TextEncoder();

/** NFKC first (NIST 800-63B 5.1.1.2), so the same password typed on two keyboards matches. */
const normalise = (password: string) => password.normalize('NFKC');

const base64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/=+$/, '');
const unbase64 = (text: string) => Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey(
    'raw',
    encoder.encode(normalise(password)),
    'PBKDF2',
    false,
    ['deriveBits'],
  );
  const bits = await crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
    key,
    HASH_BYTES * 8,
  );
  return new Uint8Array(bits);
}

/** Hashes a password for storage. */
export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const hash = await derive(password, salt, PASSWORD_ITERATIONS);
  return `$pbkdf2-sha256$v=${PASSWORD_HASH_VERSION}$i=${PASSWORD_ITERATIONS}$${base64(salt)}$${base64(hash)}`;
}

type ParsedHash = { version: number; iterations: number; salt: Uint8Array; hash: Uint8Array };

function parseHash(stored: string): ParsedHash | undefined {
  const match = /^\$pbkdf2-sha256\$v=(\d+)\$i=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(
    stored,
  );
  if (!match) return undefined;
  const iterations = Number(match[2]);
  if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > PASSWORD_ITERATIONS) {
    return undefined;
  }
  return {
    version: Number(match[1]),
    iterations,
    salt: unbase64(match[3]!),
    hash: unbase64(match[4]!),
  };
}

// Compared against when there is no user (or no password), so an unknown account costs the
// same PBKDF2 work as a wrong password and the two cannot be told apart by timing.
let decoy: Promise<string> | undefined;

/**
 * Checks a password against a stored hash in constant time. With `stored` null (unknown user,
 * or a user without a password) it still derives a hash, then answers false. `rehash` is true
 * when the password was right but the hash predates the current version or iteration count.
 */
export async function verifyPassword(
  password: string,
  stored: string | null | undefined,
): Promise<{ ok: boolean; rehash: boolean }> {
  decoy ??= hashPassword('sift decoy password, never matches');
  const own = stored ? parseHash(stored) : undefined;
  const parsed = own ?? parseHash(await decoy)!;
  const candidate = await derive(password, parsed.salt, parsed.iterations);
  const ok = timingSafeEqual(candidate, parsed.hash) && own !== undefined;
  return {
    ok,
    rehash:
      ok && (parsed.version < PASSWORD_HASH_VERSION || parsed.iterations < PASSWORD_ITERATIONS),
  };
}

/** Compares two byte strings in time that depends only on their lengths. */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ (b[i % Math.max(b.length, 1)] ?? 0);
  return difference === 0;
}

let blocklist: Set<string> | undefined;

/** Known leaked passwords (zxcvbn's ranked list), lower-cased, built on first use. */
function commonPasswordSet(): Set<string> {
  blocklist ??= new Set(commonPasswords.map((p) => p.toLowerCase()));
  return blocklist;
}

/**
 * Why a new password is refused, or undefined when it is acceptable. Rules: 12 to 256
 * characters; not a known leaked password, nor one with digits or symbols stuck on either end
 * (`password12345!`); not one character (or two) repeated; not the account's e-mail address or
 * its local part.
 */
export function passwordProblem(
  password: string,
  context: { email?: string } = {},
): string | undefined {
  const normalised = normalise(password);
  const length = [...normalised].length;
  if (length < PASSWORD_MIN_LENGTH) return `must be at least ${PASSWORD_MIN_LENGTH} characters`;
  if (length > PASSWORD_MAX_LENGTH) return `must be at most ${PASSWORD_MAX_LENGTH} characters`;
  const lower = normalised.toLowerCase();
  const common = commonPasswordSet();
  const core = lower.replace(/^[\d\W_]+|[\d\W_]+$/gu, '');
  if (common.has(lower) || (core.length > 0 && common.has(core))) {
    return 'is a commonly used password; choose a longer or less predictable one';
  }
  if (new Set(lower).size <= 2) return 'must not repeat one or two characters';
  const email = context.email?.toLowerCase();
  if (
    email &&
    (lower.includes(email) ||
      (email.split('@')[0]!.length >= 4 && lower.includes(email.split('@')[0]!)))
  ) {
    return 'must not contain your e-mail address';
  }
  return undefined;
}
