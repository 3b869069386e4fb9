/** One benchmark row: throughput and latency percentiles of an async operation. */
export type Measurement = {
  name: string;
  /** Operations completed per second with `concurrency` in flight. */
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  samples: number;
  concurrency: number;
};

export type MeasureOptions = {
  /** Untimed calls first (JIT, connection pools, caches). Default 200. */
  warmup?: number;
  /** Timed calls. Default 2,000. */
  iterations?: number;
  /** Calls in flight at once. Default 1 (latency as one client sees it). */
  concurrency?: number;
};

/**
 * Runs `op` `iterations` times with `concurrency` callers and reports ops/s and per-call latency
 * percentiles (nearest-rank). `op` receives the call's index so it can vary keys.
 */
export async function measure(
  name: string,
  op: (i: number) => Promise<unknown>,
  { warmup = 200, iterations = 2_000, concurrency = 1 }: MeasureOptions = {},
): Promise<Measurement> {
  for (let i = 0; i < warmup; i++) await op(i);
  const latencies = new Float64Array(iterations);
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < iterations; i = next++) {
        const t0 = performance.now();
        await op(i);
        latencies[i] = performance.now() - t0;
      }
    }),
  );
  const elapsed = performance.now() - start;
  latencies.sort();
  return {
    name,
    opsPerSec: (iterations / elapsed) * 1000,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    samples: iterations,
    concurrency,
  };
}

/** The nearest-rank `p` percentile (0 < p ≤ 1) of ascending `sorted` samples. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/** A Markdown table of measurements. */
export function table(rows: Measurement[]): string {
  const lines = [
    '| operation | concurrency | ops/s | p50 ms | p99 ms | samples |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.name} | ${r.concurrency} | ${Math.round(r.opsPerSec).toLocaleString('en-US')} | ${r.p50Ms.toFixed(3)} | ${r.p99Ms.toFixed(3)} | ${r.samples} |`,
    );
  }
  return lines.join('\n');
}
