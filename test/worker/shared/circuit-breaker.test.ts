import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../shared/logger.ts';
import {
  type BreakerOptions,
  breaker,
  breakerStates,
  CircuitBreaker,
  CircuitOpenError,
  CircuitTimeoutError,
  resetBreakers,
} from '../../../shared/resilience/circuit-breaker.ts';

const T0 = Date.UTC(2026, 0, 1, 12);

/** A breaker on a clock the test moves, logging into `lines`. */
function setup(options: BreakerOptions = {}) {
  let now = T0;
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: 'debug',
    sink: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
  });
  const cb = new CircuitBreaker('redis', { now: () => now, logger, ...options });
  return {
    cb,
    lines,
    logger,
    advance: (ms: number) => {
      now += ms;
    },
    at: () => now,
    transitions: () => lines.map((line) => line.msg),
  };
}

const ok = () => Promise.resolve('ok');
const boom = () => Promise.reject(new Error('ECONNREFUSED'));

async function succeed(cb: CircuitBreaker, times: number) {
  for (let i = 0; i < times; i++) await cb.run(ok);
}

async function fail(cb: CircuitBreaker, times: number) {
  for (let i = 0; i < times; i++) await expect(cb.run(boom)).rejects.toThrow('ECONNREFUSED');
}

/** A call the test settles when it wants: the way to hold a probe in flight. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Opens `cb` with ten failures (the default minimum). */
async function trip(cb: CircuitBreaker) {
  await fail(cb, 10);
  expect(cb.state().state).toBe('open');
}

describe('CircuitBreaker', () => {
  it('starts closed with an empty window', () => {
    const { cb } = setup();
    expect(cb.state()).toEqual({
      state: 'closed',
      error_rate: 0,
      requests: 0,
      opened_at: null,
      retry_at: null,
    });
  });

  it('returns what the call returns and rethrows what it throws', async () => {
    const { cb } = setup();
    await expect(cb.run(() => Promise.resolve(42))).resolves.toBe(42);
    const error = new Error('nope');
    await expect(cb.run(() => Promise.reject(error))).rejects.toBe(error);
    await expect(
      cb.run(() => {
        throw new Error('thrown synchronously');
      }),
    ).rejects.toThrow('thrown synchronously');
    expect(cb.state()).toMatchObject({ state: 'closed', requests: 3, error_rate: 0.667 });
  });

  it('stays closed below the minimum number of requests, however many of them fail', async () => {
    const { cb, transitions } = setup();
    await fail(cb, 9);
    expect(cb.state()).toMatchObject({ state: 'closed', error_rate: 1, requests: 9 });
    expect(transitions()).toEqual([]);
  });

  it('opens when half of at least ten calls in the window failed', async () => {
    const { cb, at } = setup();
    await succeed(cb, 5);
    await fail(cb, 4);
    expect(cb.state().state).toBe('closed');
    await fail(cb, 1);
    expect(cb.state()).toEqual({
      state: 'open',
      error_rate: 0.5,
      requests: 10,
      opened_at: new Date(at()).toISOString(),
      retry_at: new Date(at() + 30_000).toISOString(),
    });
  });

  it('stays closed below a 50% error rate', async () => {
    const { cb } = setup();
    await succeed(cb, 6);
    await fail(cb, 4);
    await succeed(cb, 20);
    await fail(cb, 10);
    expect(cb.state()).toMatchObject({ state: 'closed', requests: 40, error_rate: 0.35 });
  });

  it('counts failures anywhere in the last minute', async () => {
    const { cb, advance } = setup();
    await fail(cb, 5);
    advance(45_000);
    await fail(cb, 5);
    expect(cb.state()).toMatchObject({ state: 'open', requests: 10, error_rate: 1 });
  });

  it('rolls the window so that failures older than a minute expire', async () => {
    const { cb, advance } = setup();
    await fail(cb, 8);
    advance(60_000);
    expect(cb.state()).toMatchObject({ state: 'closed', requests: 0, error_rate: 0 });
    // With the old failures still counted this would be 10 of 18 (55%) and open.
    await fail(cb, 2);
    await succeed(cb, 8);
    expect(cb.state()).toMatchObject({ state: 'closed', requests: 10, error_rate: 0.2 });
  });

  it('keeps constant memory: a window of buckets, not a list of calls', async () => {
    const { cb, advance } = setup({ minimumRequests: 1_000_000 });
    for (let i = 0; i < 600; i++) {
      await succeed(cb, 1);
      advance(1_000);
    }
    // 600 calls over ten minutes, one a second: only the last 50..60 s are in the window.
    const { requests } = cb.state();
    expect(requests).toBeGreaterThanOrEqual(50);
    expect(requests).toBeLessThanOrEqual(60);
  });

  it('rejects at once while open, with the dependency and retry time, without calling', async () => {
    const { cb, at, advance } = setup();
    await trip(cb);
    const retryAt = at() + 30_000;
    advance(29_999);
    let called = false;
    const error = await cb
      .run(async () => {
        called = true;
      })
      .catch((e: unknown) => e);
    expect(called).toBe(false);
    expect(error).toBeInstanceOf(CircuitOpenError);
    const open = error as CircuitOpenError;
    expect(open.dependency).toBe('redis');
    expect(open.state).toBe('open');
    expect(open.retryAt.getTime()).toBe(retryAt);
    expect(open.message).toBe(`redis circuit open until ${new Date(retryAt).toISOString()}`);
    // Rejections are not calls: they do not move the window.
    expect(cb.state().requests).toBe(10);
  });

  it('turns half-open after 30 s and lets exactly one probe through at a time', async () => {
    const { cb, advance } = setup();
    await trip(cb);
    advance(30_000);
    expect(cb.state().state).toBe('half_open');
    const probe = deferred<string>();
    let probes = 0;
    const first = cb.run(() => {
      probes++;
      return probe.promise;
    });
    const second = await cb
      .run(() => {
        probes++;
        return ok();
      })
      .catch((e: unknown) => e);
    expect(second).toBeInstanceOf(CircuitOpenError);
    expect((second as CircuitOpenError).state).toBe('half_open');
    expect(probes).toBe(1);
    probe.resolve('back');
    await expect(first).resolves.toBe('back');
  });

  it('lets the configured number of probes through concurrently', async () => {
    const { cb, advance } = setup({ halfOpenProbes: 3 });
    await trip(cb);
    advance(30_000);
    const held = deferred<string>();
    let started = 0;
    const calls = Array.from({ length: 5 }, () =>
      cb
        .run(() => {
          started++;
          return held.promise;
        })
        .catch((e: unknown) => e),
    );
    expect(started).toBe(3);
    held.resolve('ok');
    const results = await Promise.all(calls);
    expect(results.filter((r) => r === 'ok')).toHaveLength(3);
    expect(results.filter((r) => r instanceof CircuitOpenError)).toHaveLength(2);
  });

  it('closes with an empty window when a probe succeeds', async () => {
    const { cb, advance } = setup();
    await trip(cb);
    advance(30_000);
    await cb.run(ok);
    expect(cb.state()).toEqual({
      state: 'closed',
      error_rate: 0,
      requests: 0,
      opened_at: null,
      retry_at: null,
    });
    // A fresh window: it takes the minimum again to reopen.
    await fail(cb, 9);
    expect(cb.state().state).toBe('closed');
  });

  it('reopens for another 30 s when a probe fails', async () => {
    const { cb, advance, at } = setup();
    await trip(cb);
    advance(30_000);
    await fail(cb, 1);
    expect(cb.state()).toMatchObject({
      state: 'open',
      opened_at: new Date(at()).toISOString(),
      retry_at: new Date(at() + 30_000).toISOString(),
    });
    advance(29_000);
    await expect(cb.run(ok)).rejects.toBeInstanceOf(CircuitOpenError);
    advance(1_000);
    await cb.run(ok);
    expect(cb.state().state).toBe('closed');
  });

  it('ignores the outcome of a call that started before the breaker opened', async () => {
    const { cb, advance } = setup();
    const slow = deferred<string>();
    const early = cb.run(() => slow.promise);
    await trip(cb);
    advance(30_000);
    // Half-open now; the slow call from the closed period succeeding must not close it.
    slow.resolve('late');
    await early;
    expect(cb.state().state).toBe('half_open');
  });

  it('counts a call slower than timeoutMs as a failure', async () => {
    const { cb } = setup({ timeoutMs: 5, minimumRequests: 2 });
    const never = () => new Promise<never>(() => {});
    const error = await cb.run(never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CircuitTimeoutError);
    expect((error as CircuitTimeoutError).dependency).toBe('redis');
    expect((error as CircuitTimeoutError).timeoutMs).toBe(5);
    expect(cb.state()).toMatchObject({ requests: 1, error_rate: 1 });
    await expect(cb.run(never)).rejects.toBeInstanceOf(CircuitTimeoutError);
    expect(cb.state().state).toBe('open');
  });

  it('counts only the errors isFailure classifies as the dependency being unhealthy', async () => {
    class NotFound extends Error {}
    const { cb } = setup({ isFailure: (error) => !(error instanceof NotFound) });
    for (let i = 0; i < 10; i++) {
      await expect(cb.run(() => Promise.reject(new NotFound('no such key')))).rejects.toThrow();
    }
    expect(cb.state()).toMatchObject({ state: 'closed', requests: 10, error_rate: 0 });
    await fail(cb, 10);
    expect(cb.state()).toMatchObject({ state: 'open', requests: 20, error_rate: 0.5 });
  });

  it('lets a call classify its own errors', async () => {
    const { cb } = setup();
    const refusal = () => Promise.reject(Object.assign(new Error('bad'), { status: 400 }));
    const clientError = (error: unknown) => (error as { status?: number }).status !== 400;
    for (let i = 0; i < 10; i++) {
      await expect(cb.run(refusal, { isFailure: clientError })).rejects.toThrow('bad');
    }
    expect(cb.state()).toMatchObject({ state: 'closed', error_rate: 0 });
  });

  it('closes when a probe fails with an error that does not count', async () => {
    const { cb, advance } = setup({ isFailure: (error) => (error as Error).message !== '404' });
    await trip(cb);
    advance(30_000);
    await expect(cb.run(() => Promise.reject(new Error('404')))).rejects.toThrow('404');
    expect(cb.state().state).toBe('closed');
  });

  it('logs each transition once, with the dependency, error rate and requests', async () => {
    const { cb, lines, transitions, advance, at } = setup();
    await succeed(cb, 4);
    await fail(cb, 6);
    const openedAt = at();
    await expect(cb.run(ok)).rejects.toBeInstanceOf(CircuitOpenError);
    await expect(cb.run(ok)).rejects.toBeInstanceOf(CircuitOpenError);
    advance(30_000);
    cb.state();
    await fail(cb, 1);
    advance(30_000);
    await cb.run(ok);
    await cb.run(ok);
    expect(transitions()).toEqual([
      'circuit opened',
      'circuit half-open',
      'circuit opened',
      'circuit half-open',
      'circuit closed',
    ]);
    expect(lines[0]).toMatchObject({
      level: 'warn',
      dependency: 'redis',
      trigger: 'error_rate',
      error_rate: 0.6,
      requests: 10,
      retry_at: new Date(openedAt + 30_000).toISOString(),
    });
    expect(lines[1]).toMatchObject({ level: 'info', dependency: 'redis' });
    expect(lines[2]).toMatchObject({ level: 'warn', trigger: 'probe_failed' });
    expect(lines[4]).toMatchObject({ level: 'info', dependency: 'redis', open_ms: 30_000 });
  });

  it('logs through the logger of the call that caused the transition', async () => {
    const { cb, lines, logger } = setup();
    const requestLogger = logger.with({ request_id: 'req_123' });
    await fail(cb, 9);
    await expect(cb.run(boom, { logger: requestLogger })).rejects.toThrow();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'circuit opened', request_id: 'req_123' });
  });
});

describe('breaker registry', () => {
  afterEach(() => resetBreakers());

  it('gives one breaker per dependency for the whole isolate', async () => {
    resetBreakers({ logger: createLogger({ sink: () => {} }) });
    for (let i = 0; i < 10; i++) {
      await expect(breaker('postgres').run(boom)).rejects.toThrow();
    }
    expect(breaker('postgres').state().state).toBe('open');
    expect(breaker('redis').state().state).toBe('closed');
    await expect(breaker('postgres').run(ok)).rejects.toBeInstanceOf(CircuitOpenError);
  });

  it('reports every dependency in breakerStates, unused ones as closed', async () => {
    await breaker('kv').run(ok);
    const states = breakerStates();
    expect(Object.keys(states).sort()).toEqual([
      'ai',
      'kv',
      'llm',
      'postgres',
      'qstash',
      'queue',
      'redis',
      'vector',
    ]);
    expect(states.kv).toMatchObject({ state: 'closed', requests: 1 });
    expect(states.queue).toEqual({
      state: 'closed',
      error_rate: 0,
      requests: 0,
      opened_at: null,
      retry_at: null,
    });
  });

  it('applies the options given to resetBreakers to the breakers created after it', async () => {
    let now = T0;
    resetBreakers({ now: () => now, minimumRequests: 2, logger: createLogger({ sink: () => {} }) });
    await expect(breaker('vector').run(boom)).rejects.toThrow();
    await expect(breaker('vector').run(boom)).rejects.toThrow();
    expect(breaker('vector').state()).toMatchObject({
      state: 'open',
      retry_at: new Date(T0 + 30_000).toISOString(),
    });
    now += 30_000;
    await breaker('vector').run(ok);
    expect(breaker('vector').state().state).toBe('closed');
  });

  it('forgets every breaker on resetBreakers', async () => {
    resetBreakers({ minimumRequests: 1, logger: createLogger({ sink: () => {} }) });
    await expect(breaker('queue').run(boom)).rejects.toThrow();
    expect(breakerStates().queue.state).toBe('open');
    resetBreakers();
    expect(breakerStates().queue.state).toBe('closed');
  });
});
