import type { FieldError } from '../errors.ts';

/**
 * The one rule for text Sift stores or records: every string (and every object key) must be
 * well-formed Unicode without U+0000. Postgres refuses exactly these — `text` cannot hold a NUL
 * byte, and `jsonb` refuses the escapes `\u0000` and an unpaired surrogate (`\ud800`) — so a value
 * holding one could be acknowledged at the edge and never reach the database. The API refuses
 * such input with a `400` naming the field; it never removes or replaces characters, so what a
 * client reads back is what it sent. Everything else Unicode allows (other control characters,
 * noncharacters, any script, emoji) is stored as sent.
 */

/** An unpaired surrogate: with the `u` flag a paired one is a single code point and no match. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** What is wrong with one string, or undefined when it is storable. */
export function unstorable(text: string): string | undefined {
  if (text.includes('\u0000')) return 'must not contain the NUL character (U+0000)';
  const lone = LONE_SURROGATE.exec(text);
  if (lone) {
    const unit = lone[0].charCodeAt(0).toString(16).toUpperCase();
    return `must be well-formed Unicode: it contains an unpaired surrogate (U+${unit})`;
  }
  return undefined;
}

/**
 * Every string and object key in `value` (walked to any depth) that breaks the rule, as field
 * errors under `prefix` (`body.title.en`, `query.q`). A key that breaks it is named as a JSON
 * string with its characters escaped. At most `limit` errors (default 20) are returned.
 */
export function unstorableFields(value: unknown, prefix: string, limit = 20): FieldError[] {
  const errors: FieldError[] = [];
  const visit = (node: unknown, path: string): void => {
    if (errors.length >= limit) return;
    if (typeof node === 'string') {
      const message = unstorable(node);
      if (message) errors.push({ path, message, code: 'unstorable_text' });
      return;
    }
    if (node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const [i, item] of node.entries()) visit(item, `${path}.${i}`);
      return;
    }
    for (const [key, item] of Object.entries(node)) {
      const message = unstorable(key);
      if (message) {
        const field = `${path}.${printable(key)}`;
        errors.push({ path: field, message: `key ${message}`, code: 'unstorable_text' });
        continue;
      }
      visit(item, `${path}.${key}`);
    }
  };
  visit(value, prefix);
  return errors;
}

/**
 * `text` with every character the rule refuses written as a `\uXXXX` escape: for recording text
 * that did not come through the API (a driver's error message quoting a value, a dead letter's
 * reason) where refusing is not an option. JSON-escaped, so `JSON.parse(`"${x}"`)` recovers it.
 */
export function printable(text: string): string {
  if (unstorable(text) === undefined) return text;
  return JSON.stringify(text).slice(1, -1);
}

/**
 * Whether Postgres `jsonb` accepts `value`: no string or key in it breaks the rule. When one does,
 * `JSON.stringify(value)` is still storable as `text` (it escapes both NUL and lone surrogates).
 */
export function storableJson(value: unknown): boolean {
  return unstorableFields(value, '', 1).length === 0;
}

/**
 * A copy of JSON `value` with every string and key made {@link printable}: for recording what
 * Sift composed itself from values it did not check (a problem document quoting a slug, a queue
 * message's reason), where a refusal would lose the record.
 */
export function printableCopy<T>(value: T): T {
  if (typeof value === 'string') return printable(value) as T;
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(printableCopy) as T;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [printable(key), printableCopy(item)]),
  ) as T;
}
