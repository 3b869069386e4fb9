import { DurableObject } from 'cloudflare:workers';
import { assertPolicy, type GcraState, gcra, idleAt } from '../shared/rate-limit/gcra.ts';

export type RateLimitCheck = {
  limit: number;
  periodSeconds: number;
  burst: number;
  /** Units this request uses (default 1). */
  cost?: number;
  /**
   * Count the request even when over the limit: the caller has already let it through (the
   * isolate's fast path) and only reports it, so the excess is paid back by later refusals.
   */
  charge?: boolean;
};

export type RateLimitAnswer = {
  allowed: boolean;
  limit: number;
  remaining: number;
  resetSeconds: number;
  retryAfterSeconds: number;
};

const TAT_KEY = 'tat';

/**
 * The rate-limit state of one limited key (`${class}:${kind}:${id}`; one object per key, so no
 * object sees more than one client's traffic). The state is a single number, the GCRA's
 * theoretical arrival time: kept in memory, written to storage on every change (so an evicted
 * or restarted object does not forget a client that was being held back), and deleted by an
 * alarm once it no longer matters, so idle objects cost no storage.
 *
 * Requests to one object run one at a time (input gates), and the answer leaves only after the
 * write is durable (output gates), so the count is exact for the key.
 */
export class RateLimiter extends DurableObject<Env> {
  #tat: GcraState = null;
  #alarmAt: number | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      this.#tat = (await ctx.storage.get<number>(TAT_KEY)) ?? null;
      this.#alarmAt = await ctx.storage.getAlarm();
    });
  }

  /** Counts one request of `cost` against the policy and says whether it may pass. */
  async check(input: RateLimitCheck): Promise<RateLimitAnswer> {
    const policy = { limit: input.limit, periodSeconds: input.periodSeconds, burst: input.burst };
    const cost = input.cost ?? 1;
    assertPolicy(policy, cost);
    const result = gcra(policy, this.#tat, { now: Date.now(), cost, force: input.charge });
    if (result.newState !== this.#tat) {
      this.#tat = result.newState;
      await this.ctx.storage.put(TAT_KEY, result.newState);
      await this.#scheduleCleanup();
    }
    return {
      allowed: result.allowed,
      limit: policy.limit,
      remaining: result.remaining,
      resetSeconds: result.resetSeconds,
      retryAfterSeconds: result.retryAfterSeconds,
    };
  }

  /** Forgets the key once its TAT has passed (it then behaves exactly as a key never seen). */
  override async alarm(): Promise<void> {
    this.#alarmAt = null;
    const idle = idleAt(this.#tat);
    if (idle !== null && idle > Date.now()) {
      await this.#scheduleCleanup();
      return;
    }
    this.#tat = null;
    await this.ctx.storage.deleteAll();
  }

  // One alarm at a time: when it fires early (the key stayed busy) it re-arms for the new TAT,
  // so a busy key costs one alarm write per idle period, not one per request.
  async #scheduleCleanup(): Promise<void> {
    const idle = idleAt(this.#tat);
    if (idle === null || this.#alarmAt !== null) return;
    this.#alarmAt = idle;
    await this.ctx.storage.setAlarm(idle);
  }
}
