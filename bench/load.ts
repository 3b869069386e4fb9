import autocannon, { type Request } from 'autocannon';

/** One row of a throughput benchmark: autocannon's figures for one scenario. */
export type LoadRow = {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  /** Errors, timeouts and answers other than 2xx (3xx counted as success). */
  errors: number;
};

export type LoadOptions = {
  connections: number;
  /** Seconds measured (after 2 s of untimed warm-up); ignored with `amount`. */
  seconds: number;
  headers: Record<string, string>;
  /** A fixed number of requests instead of a duration, without warm-up. */
  amount?: number;
  /** Rewrites each request (a path or a credential per request). */
  setupRequest?: (request: Request) => Request;
};

/**
 * Drives `url` with autocannon: 2 s of warm-up (JIT, connection pools, the isolate's caches)
 * unless a fixed `amount` is asked for, then the measured run.
 */
export async function loadTest(name: string, url: string, options: LoadOptions): Promise<LoadRow> {
  const { setupRequest } = options;
  const run = (duration: number, amount?: number) =>
    autocannon({
      url,
      connections: options.connections,
      ...(amount ? { amount } : { duration }),
      headers: options.headers,
      ...(setupRequest ? { requests: [{ setupRequest }] } : {}),
    });
  if (!options.amount) await run(2);
  const result = await run(options.seconds, options.amount);
  return {
    name,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    errors: result.errors + result.timeouts + result.non2xx - (result['3xx'] ?? 0),
  };
}
