/**
 * When an outbound webhook is attempted again, and what an answer means. The schedule follows
 * the Standard Webhooks recommendation, stretched to ten attempts over about three days:
 * at once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h after the attempt before
 * (75.6 hours in all), each delay ±10% at random so endpoints that failed together do not all
 * come back at the same instant.
 */

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** The delay before attempt n + 1 (index n − 1), after attempt n failed; the first is at once. */
export const RETRY_DELAYS_MS = [
  5 * SECOND,
  5 * MINUTE,
  30 * MINUTE,
  2 * HOUR,
  5 * HOUR,
  10 * HOUR,
  14 * HOUR,
  20 * HOUR,
  24 * HOUR,
] as const;

/** Attempts in all, the first included. */
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;

/** Random spread of each delay: ±10%. */
export const JITTER = 0.1;

/** A `Retry-After` is honoured between these bounds. */
export const RETRY_AFTER_MIN_MS = SECOND;
export const RETRY_AFTER_MAX_MS = 6 * HOUR;

/**
 * The delay before the next attempt after `attempts` attempts failed, or null when none is left.
 * `random` is in [0, 1) (Math.random by default); `retryAfterMs`, from a 429 or 503, replaces
 * the schedule's delay when given, clamped to 1 s – 6 h.
 */
export function nextAttemptDelay(
  attempts: number,
  options: { random?: number; retryAfterMs?: number | null } = {},
): number | null {
  if (!Number.isInteger(attempts) || attempts < 1) throw new RangeError('attempts must be ≥ 1');
  if (attempts >= MAX_ATTEMPTS) return null;
  if (options.retryAfterMs !== undefined && options.retryAfterMs !== null) {
    return Math.min(RETRY_AFTER_MAX_MS, Math.max(RETRY_AFTER_MIN_MS, options.retryAfterMs));
  }
  const base = RETRY_DELAYS_MS[attempts - 1]!;
  const random = options.random ?? Math.random();
  return Math.round(base * (1 + JITTER * (2 * random - 1)));
}

/**
 * A `Retry-After` header in milliseconds from `now`: delay-seconds (`120`) or an HTTP date
 * (`Wed, 21 Oct 2026 07:28:00 GMT`); null when absent or not one of the two.
 */
export function parseRetryAfter(value: string | null, now: number): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (/^\d{1,10}$/.test(text)) return Number(text) * SECOND;
  // An HTTP date names its day and zone; Date.parse alone would take almost anything.
  if (!/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(text)) return null;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** What an endpoint's answer means for the delivery. */
export type AttemptOutcome =
  /** 2xx: delivered. */
  | { kind: 'delivered' }
  /** 410 Gone: the receiver asks never to be called again; the endpoint is disabled at once. */
  | { kind: 'gone' }
  /** Anything else, a 3xx included (redirects are never followed): tried again if any is left. */
  | { kind: 'failed'; retryAfterMs: number | null };

export function attemptOutcome(status: number, headers: Headers, now: number): AttemptOutcome {
  if (status >= 200 && status < 300) return { kind: 'delivered' };
  if (status === 410) return { kind: 'gone' };
  const honoured = status === 429 || status === 503;
  return {
    kind: 'failed',
    retryAfterMs: honoured ? parseRetryAfter(headers.get('retry-after'), now) : null,
  };
}
