/**
 * Prefixed, time-sortable identifiers in the TypeID format: `<prefix>_<26 chars>`, the suffix a
 * UUIDv7 (48-bit millisecond timestamp, then random bits) in Crockford base32. They sort by
 * creation time as plain strings, leak nothing sequential, and say what they identify.
 */
export const ID_PREFIXES = {
  organization: 'org',
  user: 'usr',
  invitation: 'inv',
  apiKey: 'key',
  session: 'ses',
  sessionEvent: 'sev',
  category: 'cat',
  content: 'cnt',
  synonym: 'syn',
  operation: 'op',
  auditLog: 'aud',
  event: 'evt',
  webhookSource: 'whs',
  webhookEndpoint: 'ep',
  delivery: 'dlv',
  webhookAttempt: 'att',
  sourceDelivery: 'wsd',
  request: 'req',
  deadLetter: 'dlq',
  query: 'qry',
  accessRule: 'acr',
  recommendation: 'rec',
  topic: 'top',
  document: 'doc',
  flag: 'flg',
  experiment: 'exp',
} as const;

export type IdKind = keyof typeof ID_PREFIXES;
export type IdPrefix = (typeof ID_PREFIXES)[IdKind];

/** What each kind of id identifies, with its article, as error messages name it. */
const ID_NAMES: Record<IdKind, string> = {
  organization: 'an organisation',
  user: 'a user',
  invitation: 'an invitation',
  apiKey: 'an API key',
  session: 'a session',
  sessionEvent: 'a session event',
  category: 'a category',
  content: 'a content',
  synonym: 'a synonym set',
  operation: 'an operation',
  auditLog: 'an audit log entry',
  event: 'an event',
  webhookSource: 'a webhook source',
  webhookEndpoint: 'a webhook endpoint',
  delivery: 'a delivery',
  webhookAttempt: 'a delivery attempt',
  sourceDelivery: 'a source delivery',
  request: 'a request',
  deadLetter: 'a dead letter',
  query: 'a query',
  accessRule: 'an access rule',
  recommendation: 'a recommendation',
  topic: 'a topic',
  document: 'a document',
  flag: 'a flag',
  experiment: 'an experiment',
};

/** A well-formed id of `kind`, for examples (`cnt_01jd5x3k7yf0v9r2m4q6s8t1wz`). */
export function exampleId(kind: IdKind): string {
  return `${ID_PREFIXES[kind]}_01jd5x3k7yf0v9r2m4q6s8t1wz`;
}

/**
 * The rule a malformed id of `kind` breaks, with the form expected: `must be a content id:
 * "cnt_" and 26 characters from 0-9 and a-z except i, l, o, u (cnt_01jd…)`. The one
 * wording every route uses, in paths, queries and bodies alike.
 */
export function idRule(kind: IdKind): string {
  return (
    `must be ${ID_NAMES[kind]} id: "${ID_PREFIXES[kind]}_" and 26 characters from 0-9 and ` +
    `a-z except i, l, o, u (${exampleId(kind)})`
  );
}

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/** A new id of `kind`, e.g. `newId('content')` → `cnt_01jd5x3k7yf0v9r2m4q6s8t1wz`. */
export function newId(kind: IdKind, now: number = Date.now()): string {
  return `${ID_PREFIXES[kind]}_${encode(uuidv7Bytes(now))}`;
}

/**
 * An id of `kind` derived from `seed` (at least 10 bytes, e.g. a hash) instead of random bytes,
 * with `now`'s timestamp: the same seed and time always give the same id, so a producer that
 * sends the same thing twice names it the same.
 */
export function derivedId(kind: IdKind, now: number, seed: Uint8Array): string {
  const bytes = uuidv7Bytes(now);
  for (let i = 6; i < 16; i++) bytes[i] = seed[i - 6]!;
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  return `${ID_PREFIXES[kind]}_${encode(bytes)}`;
}

/** Whether `value` is a well-formed id of `kind` (prefix and 26-character suffix). */
export function isId(kind: IdKind, value: string): boolean {
  const prefix = `${ID_PREFIXES[kind]}_`;
  return (
    value.length === prefix.length + 26 &&
    value.startsWith(prefix) &&
    /^[0-7][0-9a-hjkmnp-tv-z]{25}$/.test(value.slice(prefix.length))
  );
}

/** The creation time encoded in an id (milliseconds since the epoch). */
export function idTimestamp(id: string): number {
  const suffix = id.slice(id.lastIndexOf('_') + 1);
  // The first 10 base32 characters hold 50 bits: two zero bits, then the 48-bit timestamp.
  let ms = 0;
  for (const ch of suffix.slice(0, 10)) ms = ms * 32 + ALPHABET.indexOf(ch);
  return ms;
}

function uuidv7Bytes(now: number): Uint8Array {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  let ms = Math.floor(now);
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms & 0xff;
    ms = Math.floor(ms / 256);
  }
  bytes[6] = (bytes[6]! & 0x0f) | 0x70; // version 7
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC 9562 variant
  return bytes;
}

/** 128 bits as 26 Crockford base32 characters, most significant first (two leading zero bits). */
function encode(bytes: Uint8Array): string {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  let out = '';
  for (let i = 0; i < 26; i++) {
    out = ALPHABET[Number(value & 31n)] + out;
    value >>= 5n;
  }
  return out;
}
