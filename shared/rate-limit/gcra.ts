/**
 * A rate policy: `limit` requests per `periodSeconds` on average, of which up to `burst` may
 * arrive at once. `burst` defaults to `limit` in the route policies (the whole period's quota can
 * be spent in one go); `burst > limit` lets a short spike through above the sustained rate.
 */
export type RatePolicy = { limit: number; periodSeconds: number; burst: number };

/**
 * The limiter's whole memory: the theoretical arrival time (TAT) in microseconds since the
 * epoch, or null for a key never seen (or idle long enough to be forgotten).
 */
export type GcraState = number | null;

export type GcraInput = {
  /** The current time, in milliseconds since the epoch (`Date.now()`). */
  now: number;
  /** Units this request uses, an integer in 0..burst (0 reads the state without using any). */
  cost?: number;
  /**
   * Charge the request even when it is over the limit (the caller has already admitted it, as
   * the in-isolate fast path does): `allowed` still says whether the quota covered it, but the
   * TAT moves forward either way, so the excess is paid back by later refusals.
   */
  force?: boolean;
};

export type GcraResult = {
  /** Whether the quota covered this request. */
  allowed: boolean;
  /** Units still available right after this request (0..burst). */
  remaining: number;
  /** Seconds until the whole burst is available again (0 when it already is). */
  resetSeconds: number;
  /** When refused: seconds until this request would be allowed (at least 1); 0 when allowed. */
  retryAfterSeconds: number;
  /** The state to store (the old one when a refused request is not charged). */
  newState: GcraState;
};

const MICROS_PER_MS = 1_000;
const MICROS_PER_S = 1_000_000;

/**
 * The emission interval T of a policy in whole microseconds: period / limit, rounded up so the
 * limiter is never more generous than the policy. Every default policy's T is exact.
 */
export function emissionInterval(policy: RatePolicy): number {
  return Math.ceil((policy.periodSeconds * MICROS_PER_S) / policy.limit);
}

/** Throws on a policy or cost the algorithm cannot honour (a programming error, not a request's). */
export function assertPolicy(policy: RatePolicy, cost = 1): void {
  const { limit, periodSeconds, burst } = policy;
  for (const [name, value] of [
    ['limit', limit],
    ['periodSeconds', periodSeconds],
    ['burst', burst],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`rate policy ${name} must be a positive integer, got ${value}`);
    }
  }
  if (!Number.isSafeInteger(cost) || cost < 0 || cost > burst) {
    throw new RangeError(`cost must be an integer in 0..${burst}, got ${cost}`);
  }
}

/**
 * The generic cell rate algorithm (GCRA, ITU-T I.371's virtual scheduling form), as a pure
 * function: a request of `cost` at `now` is admitted when the TAT it would leave behind is at
 * most `burst · T` ahead of `now`; admitting it moves the TAT to `max(TAT, now) + cost · T`.
 * A refused request leaves the state alone (unless `force`).
 *
 * Guarantee (for admitted requests, integer times in ms): in every time interval of length L
 * (both ends included) the costs admitted add up to at most `burst + floor(L / T)`. Proof: if
 * the first admission in the interval is at t₁ and the last at t₂, the TAT after t₂ is at least
 * `t₁ + T · (sum of their costs)` and at most `t₂ + burst · T`, so the sum is at most
 * `burst + (t₂ − t₁) / T`, and it is an integer. Conversely nothing is refused that the
 * policy allows: after an idle spell of `burst · T` a burst of `burst` passes, and requests
 * spaced at least `cost · T` apart always pass. All arithmetic is on integers of microseconds
 * (below 2⁵³ until the year 2255), so the bound holds exactly, with no floating-point drift.
 *
 * `cost` above `burst` could never pass and is a programming error (RangeError), like a
 * policy with a non-positive or non-integer field.
 */
export function gcra(policy: RatePolicy, state: GcraState, input: GcraInput): GcraResult {
  const cost = input.cost ?? 1;
  assertPolicy(policy, cost);
  const interval = emissionInterval(policy);
  const tolerance = policy.burst * interval;
  const now = Math.floor(input.now * MICROS_PER_MS);
  const tat = Math.max(state ?? now, now);
  const next = tat + cost * interval;
  const allowed = next - now <= tolerance;
  if (!allowed && !input.force) {
    return {
      allowed: false,
      remaining: unitsLeft(tolerance - (tat - now), interval),
      resetSeconds: seconds(tat - now),
      retryAfterSeconds: Math.max(1, seconds(next - tolerance - now)),
      newState: state,
    };
  }
  return {
    allowed,
    remaining: unitsLeft(tolerance - (next - now), interval),
    resetSeconds: seconds(next - now),
    retryAfterSeconds: allowed ? 0 : Math.max(1, seconds(next - tolerance - now)),
    newState: next,
  };
}

/** When a state stops mattering: from then on it behaves exactly like no state (ms epoch). */
export function idleAt(state: GcraState): number | null {
  return state === null ? null : Math.ceil(state / MICROS_PER_MS);
}

const unitsLeft = (slack: number, interval: number) => Math.max(0, Math.floor(slack / interval));

const seconds = (micros: number) => Math.max(0, Math.ceil(micros / MICROS_PER_S));
