import { randomBytes } from 'node:crypto';

// Base58, as in QStash's own ids (`msg_2XavMmRcJHJf7HkNtNqjfVf8uQe`, `sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r`).
const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/** A random id with QStash's prefix convention (`msg_`, `scd_`, `sig_`, `jwt_`). */
export function randomId(prefix: string, length = 28): string {
  const bytes = randomBytes(length);
  let id = prefix;
  for (const byte of bytes) id += ALPHABET[byte % ALPHABET.length];
  return id;
}

let lastMs = 0;
let sequence = 0;

/** DLQ ids look like Redis stream ids, `1725323658779-0` (QStash callbacks docs). */
export function dlqId(now: number): string {
  if (now === lastMs) sequence++;
  else {
    lastMs = now;
    sequence = 0;
  }
  return `${now}-${sequence}`;
}
