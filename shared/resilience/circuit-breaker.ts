import { createLogger, type Logger } from '../logger.ts';
import { FAULT_CLASSIFIERS, markFault } from './faults.ts';

/**
 * The dependencies that get a breaker each (seed 001: database, cache, vector index...); `ai` is
 * the embedding model (Workers AI), `llm` its instruction models (enrichment, answers): a slow or
 * failing large model must not open the circuit searches embed their queries through; `qstash`
 * schedules outbound webhook attempts.
 */
export const DEPENDENCIES = [
  'postgres',
  'redis',
  'vector',
  'ai',
  'llm',
  'kv',
  'queue',
  'qstash',
] as const;
export type Dependency = (typeof DEPENDENCIES)[number];

export type CircuitState = 'closed' | 'open' | 'half_open';

export type BreakerOptions = {
  /** The rolling window the error rate is measured over. Default 60 000 ms. */
  windowMs?: number;
  /** How many buckets the window is kept in (memory is constant; it rolls a bucket at a time). Default 6. */
  buckets?: number;
  /** The error rate (0..1) at or above which the breaker opens. Default 0.5. */
  failureRate?: number;
  /** Calls the window must hold before the rate counts, so one failure of one opens nothing. Default 10. */
  minimumRequests?: number;
  /** How long it stays open before letting probes through. Default 30 000 ms. */
  openMs?: number;
  /** Probes allowed at once while half-open. Default 1. */
  halfOpenProbes?: number;
  /** A call slower than this fails with `CircuitTimeoutError` and counts as a failure. Default none. */
  timeoutMs?: number;
  /**
   * Which errors mean the dependency is unhealthy. Default: every thrown error; the registry's
   * breakers (`breaker(dependency)`) default to the dependency's own classifier instead.
   */
  isFailure?: (error: unknown) => boolean;
  /** The clock, in milliseconds since the epoch (tests inject their own). Default `Date.now`. */
  now?: () => number;
  /** Where transitions are logged when a call brings no logger of its own. */
  logger?: Logger;
};

/** What `/ready` shows of a breaker. Times are RFC 3339 UTC; null while closed. */
export type BreakerState = {
  state: CircuitState;
  /** Failed share (0..1) of the calls in the current window. */
  error_rate: number;
  /** Calls in the current window. */
  requests: number;
  /** When it last opened. */
  opened_at: string | null;
  /** When it lets (or let) probes through. */
  retry_at: string | null;
};

/** Per-call options: a request's logger (transitions carry its ids) and its own error classifier. */
export type CallOptions = { logger?: Logger; isFailure?: (error: unknown) => boolean };

/**
 * Thrown by `run` without calling the dependency while the breaker is open (or half-open with
 * every probe slot taken). `retryAt` is when a call may be let through again.
 */
export class CircuitOpenError extends Error {
  readonly dependency: string;
  readonly state: 'open' | 'half_open';
  readonly retryAt: Date;

  constructor(dependency: string, state: 'open' | 'half_open', retryAt: number) {
    const at = new Date(retryAt);
    super(
      state === 'open'
        ? `${dependency} circuit open until ${at.toISOString()}`
        : `${dependency} circuit half-open, probe in progress`,
    );
    this.name = 'CircuitOpenError';
    this.dependency = dependency;
    this.state = state;
    this.retryAt = at;
  }
}

/** Thrown by `run` when the call took longer than the breaker's `timeoutMs` (a failure). */
export class CircuitTimeoutError extends Error {
  readonly dependency: string;
  readonly timeoutMs: number;

  constructor(dependency: string, timeoutMs: number) {
    super(`${dependency} gave no answer within ${timeoutMs} ms`);
    this.name = 'CircuitTimeoutError';
    this.dependency = dependency;
    this.timeoutMs = timeoutMs;
  }
}

const everyError = () => true;

/**
 * A circuit breaker for one dependency (seed 001): while closed, calls go through and their
 * outcomes fill a rolling window (default 60 s in 6 buckets of 10 s, so a failure is forgotten
 * 50 to 60 s later); when the window holds at least `minimumRequests` (10) calls and at least
 * `failureRate` (50%) of them failed, it opens. Open, `run` rejects at once with
 * `CircuitOpenError` for `openMs` (30 s); then it is half-open and lets `halfOpenProbes` (1)
 * calls through at a time: the first probe that succeeds closes it with an empty window, one
 * that fails opens it for another `openMs`. Only errors `isFailure` accepts count (default all;
 * a 4xx from a healthy dependency should not); a call slower than `timeoutMs` (default none)
 * fails with `CircuitTimeoutError` and counts. A call's outcome is ignored if the breaker
 * changed state while it ran, so a slow success from before an opening cannot close it.
 *
 * Each transition is logged once: `circuit opened` (warn), `circuit half-open` and
 * `circuit closed` (info), with the dependency, error rate and request count. Open-to-half-open
 * happens on the first call after `openMs`; `state()` reports it without side effects.
 */
export class CircuitBreaker {
  readonly dependency: string;
  readonly #bucketMs: number;
  readonly #failureRate: number;
  readonly #minimumRequests: number;
  readonly #openMs: number;
  readonly #halfOpenProbes: number;
  readonly #timeoutMs: number | undefined;
  readonly #isFailure: (error: unknown) => boolean;
  readonly #now: () => number;
  readonly #logger: Logger;

  #state: CircuitState = 'closed';
  /** Bumped on every transition; outcomes of calls started in an earlier one are ignored. */
  #generation = 0;
  #probes = 0;
  #openedAt: number | null = null;
  #retryAt: number | null = null;
  /** The window: slot i holds bucket number `#epochs[i]` (time / bucketMs), or -1 when empty. */
  readonly #epochs: number[];
  readonly #requests: number[];
  readonly #failures: number[];

  constructor(dependency: string, options: BreakerOptions = {}) {
    const buckets = Math.max(1, Math.floor(options.buckets ?? 6));
    this.dependency = dependency;
    this.#bucketMs = Math.max(1, Math.ceil((options.windowMs ?? 60_000) / buckets));
    this.#failureRate = options.failureRate ?? 0.5;
    this.#minimumRequests = Math.max(1, options.minimumRequests ?? 10);
    this.#openMs = options.openMs ?? 30_000;
    this.#halfOpenProbes = Math.max(1, options.halfOpenProbes ?? 1);
    this.#timeoutMs = options.timeoutMs;
    this.#isFailure = options.isFailure ?? everyError;
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger ?? createLogger({ fields: { component: 'circuit-breaker' } });
    this.#epochs = new Array<number>(buckets).fill(-1);
    this.#requests = new Array<number>(buckets).fill(0);
    this.#failures = new Array<number>(buckets).fill(0);
  }

  /**
   * Calls `fn` through the breaker: rejects with `CircuitOpenError` without calling it while
   * open, otherwise returns (or rethrows) what `fn` does and records the outcome.
   */
  async run<T>(fn: () => Promise<T>, options: CallOptions = {}): Promise<T> {
    const logger = options.logger ?? this.#logger;
    const isFailure = options.isFailure ?? this.#isFailure;
    this.#admit(logger);
    const generation = this.#generation;
    const probe = this.#state === 'half_open';
    if (probe) this.#probes++;
    try {
      const value = await this.#call(fn);
      this.#settle(generation, probe, false, logger);
      return value;
    } catch (error) {
      const failed = error instanceof CircuitTimeoutError || safely(isFailure, error);
      this.#settle(generation, probe, failed, logger);
      throw error;
    }
  }

  /** The breaker as `/ready` shows it; reading it changes nothing. */
  state(): BreakerState {
    const now = this.#now();
    const { requests, failures } = this.#totals(now);
    const state =
      this.#state === 'open' && this.#retryAt !== null && now >= this.#retryAt
        ? 'half_open'
        : this.#state;
    return {
      state,
      error_rate: requests === 0 ? 0 : round(failures / requests),
      requests,
      opened_at: this.#openedAt === null ? null : new Date(this.#openedAt).toISOString(),
      retry_at: this.#retryAt === null ? null : new Date(this.#retryAt).toISOString(),
    };
  }

  /** Lets the call through or throws; moves open to half-open once `openMs` has passed. */
  #admit(logger: Logger): void {
    const now = this.#now();
    if (this.#state === 'closed') return;
    if (this.#state === 'open') {
      const retryAt = this.#retryAt ?? now;
      if (now < retryAt) throw new CircuitOpenError(this.dependency, 'open', retryAt);
      this.#transition('half_open');
      logger.info('circuit half-open', { dependency: this.dependency, ...this.#fields(now) });
    }
    if (this.#probes >= this.#halfOpenProbes) {
      throw new CircuitOpenError(this.dependency, 'half_open', now);
    }
  }

  #call<T>(fn: () => Promise<T>): Promise<T> {
    const timeoutMs = this.#timeoutMs;
    // Wrapped so that a synchronous throw becomes a rejection like any other failure.
    const work = (async () => fn())();
    if (timeoutMs === undefined) return work;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new CircuitTimeoutError(this.dependency, timeoutMs)),
        timeoutMs,
      );
    });
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }

  #settle(generation: number, probe: boolean, failed: boolean, logger: Logger): void {
    if (generation !== this.#generation) return;
    const now = this.#now();
    if (probe) {
      this.#probes--;
      if (failed) this.#open(now, logger, 'probe_failed');
      else this.#close(now, logger);
      return;
    }
    this.#record(now, failed);
    const { requests, failures } = this.#totals(now);
    if (requests >= this.#minimumRequests && failures / requests >= this.#failureRate) {
      this.#open(now, logger, 'error_rate');
    }
  }

  #open(now: number, logger: Logger, trigger: 'error_rate' | 'probe_failed'): void {
    this.#transition('open');
    this.#openedAt = now;
    this.#retryAt = now + this.#openMs;
    logger.warn('circuit opened', {
      dependency: this.dependency,
      trigger,
      ...this.#fields(now),
      retry_at: new Date(this.#retryAt).toISOString(),
    });
  }

  #close(now: number, logger: Logger): void {
    const openedAt = this.#openedAt;
    this.#transition('closed');
    this.#openedAt = null;
    this.#retryAt = null;
    this.#epochs.fill(-1);
    logger.info('circuit closed', {
      dependency: this.dependency,
      ...(openedAt === null ? {} : { open_ms: now - openedAt }),
    });
  }

  #transition(state: CircuitState): void {
    this.#state = state;
    this.#generation++;
    this.#probes = 0;
  }

  #fields(now: number) {
    const { requests, failures } = this.#totals(now);
    return { error_rate: requests === 0 ? 0 : round(failures / requests), requests };
  }

  #record(now: number, failed: boolean): void {
    const epoch = Math.floor(now / this.#bucketMs);
    const slot = epoch % this.#epochs.length;
    if (this.#epochs[slot] !== epoch) {
      this.#epochs[slot] = epoch;
      this.#requests[slot] = 0;
      this.#failures[slot] = 0;
    }
    this.#requests[slot] = (this.#requests[slot] ?? 0) + 1;
    if (failed) this.#failures[slot] = (this.#failures[slot] ?? 0) + 1;
  }

  #totals(now: number): { requests: number; failures: number } {
    const oldest = Math.floor(now / this.#bucketMs) - this.#epochs.length;
    let requests = 0;
    let failures = 0;
    for (let slot = 0; slot < this.#epochs.length; slot++) {
      if ((this.#epochs[slot] ?? -1) > oldest) {
        requests += this.#requests[slot] ?? 0;
        failures += this.#failures[slot] ?? 0;
      }
    }
    return { requests, failures };
  }
}

/** A classifier that throws is treated as "counts": an unknown error is not a healthy answer. */
function safely(isFailure: (error: unknown) => boolean, error: unknown): boolean {
  try {
    return isFailure(error);
  } catch {
    return true;
  }
}

const round = (value: number) => Math.round(value * 1_000) / 1_000;

/** A registry breaker seen through one caller's logger (transitions it causes carry its ids). */
export type Breaker = {
  readonly dependency: Dependency;
  run<T>(fn: () => Promise<T>, options?: { isFailure?: (error: unknown) => boolean }): Promise<T>;
  state(): BreakerState;
};

/**
 * The isolate's breakers, one per dependency. Each isolate decides for itself, with no shared
 * store: asking Redis or a Durable Object whether Redis is down would add a round trip to every
 * call and a dependency to the thing that guards dependencies. An isolate serves enough of the
 * traffic to see an outage within its window, and one that has not seen it yet pays at most a
 * failed call (bounded by the callers' timeouts) before it learns too; a quiet isolate that never
 * reaches `minimumRequests` simply keeps calling, as it would without a breaker.
 */
const registry = new Map<Dependency, CircuitBreaker>();
let registryOptions: BreakerOptions = {};

/**
 * The isolate's breaker for `dependency`, created on first use with the defaults (see
 * `CircuitBreaker`) and the dependency's own classifier (`FAULT_CLASSIFIERS` in `./faults.ts`:
 * only a real fault of the dependency counts, never an answer a request's input caused), which
 * a call may replace with its own `isFailure`. An error the classifier counts is also recorded
 * as that dependency's fault (`markFault`), so the API answers it with a `503` naming it. Pass
 * the request's logger so the transitions a call causes are logged with its request id:
 * `await breaker('redis', c.var.logger).run(() => redis.get(key))`.
 */
export function breaker(dependency: Dependency, logger?: Logger): Breaker {
  let found = registry.get(dependency);
  if (found === undefined) {
    found = new CircuitBreaker(dependency, registryOptions);
    registry.set(dependency, found);
  }
  const shared = found;
  return {
    dependency,
    run: async (fn, options = {}) => {
      const isFailure =
        options.isFailure ?? registryOptions.isFailure ?? FAULT_CLASSIFIERS[dependency];
      try {
        return await shared.run(fn, {
          isFailure,
          ...(logger === undefined ? {} : { logger }),
        });
      } catch (error) {
        if (
          error instanceof CircuitTimeoutError ||
          (!(error instanceof CircuitOpenError) && safely(isFailure, error))
        ) {
          markFault(error, dependency);
        }
        throw error;
      }
    },
    state: () => shared.state(),
  };
}

/** Every dependency's breaker state, for `/ready` (a breaker never used reads as closed). */
export function breakerStates(): Record<Dependency, BreakerState> {
  const states = {} as Record<Dependency, BreakerState>;
  for (const dependency of DEPENDENCIES) {
    states[dependency] = registry.get(dependency)?.state() ?? {
      state: 'closed',
      error_rate: 0,
      requests: 0,
      opened_at: null,
      retry_at: null,
    };
  }
  return states;
}

/**
 * Forgets every breaker (tests: breakers live as long as the isolate, which the tests share).
 * `options` apply to the breakers created afterwards, e.g. an injected clock.
 */
export function resetBreakers(options: BreakerOptions = {}): void {
  registry.clear();
  registryOptions = options;
}
