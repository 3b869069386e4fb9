/**
 * The content read and write paths under `wrangler dev` (`npm run dev` on free ports: the Worker,
 * its queues and Durable Objects, and the local cloud in memory), driven from this process:
 *
 * - `GET /health` — a route that touches no dependency: the floor every other row is a ratio to;
 * - cached `GET /v1/content/{id}` (API key, rate limiter, version pointer from Redis, snapshot from
 *   the isolate's memory) and the same with `If-None-Match` (304);
 * - cold `GET /v1/content/{id}`: sample items the seed wrote straight into Postgres, so no cache
 *   tier holds them; each read once;
 * - write acknowledgement: `PATCH` to `202`, with several clients writing at once;
 * - a write's path to durability and to other readers: from sending a `PATCH` to its operation
 *   reporting `applied` (Postgres has it), and to another user's `GET` showing the new version;
 * - a 1,000-item bulk create: to its `202`, and to its operation reporting all 1,000 applied.
 *
 *   npm run bench:content              # writes bench/results/content.md
 *   BENCH_SECONDS=20 BENCH_WRITES=800 npm run bench:content
 *   BENCH_DEV_LOG=/tmp/dev.log npm run bench:content   # keeps the dev server's output
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startBenchSession } from './dev-session.ts';
import { type LoadRow, loadTest } from './load.ts';
import { percentile } from './measure.ts';

const ROOT = join(import.meta.dirname, '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
/** Writes timed for acknowledgement, and (fewer, one at a time per client) for durability. */
const WRITES = Number(process.env.BENCH_WRITES ?? 400);
const TRACKED_WRITES = Number(process.env.BENCH_TRACKED_WRITES ?? 100);
const WRITERS = Number(process.env.BENCH_WRITERS ?? 8);
const BULK_RUNS = Number(process.env.BENCH_BULK_RUNS ?? 2);
const BULK_SIZE = 1_000;
/** How often the durability and visibility pollers ask. */
const POLL_MS = 10;
const CLIENT_IP = '198.51.100.30';

type Json = Record<string, unknown>;
type Auth = { token: string };

async function api(
  base: string,
  path: string,
  init: { method?: string; auth?: Auth; body?: unknown; headers?: Record<string, string> } = {},
) {
  const response = await fetch(`${base}${path}`, {
    method: init.method ?? (init.body ? 'POST' : 'GET'),
    headers: {
      'CF-Connecting-IP': CLIENT_IP,
      ...(init.auth ? { Authorization: `Bearer ${init.auth.token}` } : {}),
      ...(init.body ? { 'Content-Type': 'application/json' } : {}),
      ...init.headers,
    },
    ...(init.body ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await response.text();
  const body = (text ? JSON.parse(text) : {}) as Json;
  if (response.status >= 400) {
    throw new Error(`${init.method ?? 'GET'} ${path}: ${response.status} ${text.slice(0, 500)}`);
  }
  return { response, body };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ms = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));

/** Version named by a content `ETag` (`"<id>.v<version>"`). */
function etagVersion(etag: string | null): number {
  const match = etag?.match(/\.v(\d+)"$/);
  if (!match) throw new Error(`unexpected ETag ${etag}`);
  return Number(match[1]);
}

/** Throughput of `urls` (requests go round them in turn). */
const load = (name: string, urls: string[], headers: Record<string, string>): Promise<LoadRow> => {
  let next = 0;
  return loadTest(name, urls[0]!, {
    connections: CONNECTIONS,
    seconds: SECONDS,
    headers,
    setupRequest: (request) => ({
      ...request,
      path: new URL(urls[next++ % urls.length]!).pathname,
    }),
  });
};

type Summary = { name: string; p50: number; p95: number; p99: number; max: number; n: number };

function summarise(name: string, samples: number[]): Summary {
  const sorted = Float64Array.from(samples).sort();
  return {
    name,
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    n: samples.length,
  };
}

/** Runs `op(i)` for i < count with `concurrency` callers at once. */
async function pool(count: number, concurrency: number, op: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) await op(i);
    }),
  );
}

/** Polls `done` every POLL_MS until it holds; the time it first held. */
async function until(done: () => Promise<boolean>, timeoutMs = 120_000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await done()) return performance.now();
    if (performance.now() > deadline) throw new Error(`not done within ${timeoutMs} ms`);
    await sleep(POLL_MS);
  }
}

async function main() {
  const dev = await startBenchSession('content');
  const base = dev.base;
  try {
    // Another member of the organisation: the "others" who should see a write.
    const other: Auth = { token: await dev.login('yousef.rahman@sift-demo.example') };
    const writer: Auth = {
      token: (
        await dev.apiKey('content benchmark', [
          'content:read',
          'content:write',
          'content:publish',
          'content:delete',
        ])
      ).secret,
    };

    // The seeded items: in Postgres only (the seed does not go through the write path).
    const seeded: string[] = [];
    for (let cursor: string | null = null; ; ) {
      const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const page = await api(base, `/v1/content?limit=100${query}`, { auth: writer });
      seeded.push(...(page.body.items as { id: string }[]).map((i) => i.id));
      cursor = page.body.next_cursor as string | null;
      if (!cursor) break;
    }
    if (seeded.length < 100) throw new Error(`only ${seeded.length} seeded items`);
    const hot = seeded.slice(0, 50);
    const cold = seeded.slice(50);
    console.log(`${seeded.length} seeded items: ${hot.length} hot, ${cold.length} cold`);

    // Cold reads first, one at a time, before anything else touches those items.
    const tiers = new Map<string, number>();
    const coldSamples: number[] = [];
    for (const id of cold) {
      const t0 = performance.now();
      const { response } = await api(base, `/v1/content/${id}`, { auth: writer });
      coldSamples.push(performance.now() - t0);
      const tier = response.headers.get('server-timing')?.match(/cache;desc="?(\w+)/)?.[1] ?? '?';
      tiers.set(tier, (tiers.get(tier) ?? 0) + 1);
    }
    if (tiers.get('postgres') !== cold.length) {
      throw new Error(`cold reads were not all from Postgres: ${JSON.stringify([...tiers])}`);
    }

    // Throughput: the floor, then cached reads.
    const etags = new Map<string, string>();
    for (const id of hot) {
      const { response } = await api(base, `/v1/content/${id}`, { auth: writer });
      etags.set(id, response.headers.get('etag')!);
    }
    const auth = { 'CF-Connecting-IP': CLIENT_IP, Authorization: `Bearer ${writer.token}` };
    const hello = await load('`GET /health` (hello world)', [`${base}/health`], {
      'CF-Connecting-IP': CLIENT_IP,
    });
    const cached = await load(
      '`GET /v1/content/{id}`, cached (50 items)',
      hot.map((id) => `${base}/v1/content/${id}`),
      auth,
    );
    // One item, so that every request carries the matching If-None-Match.
    const conditional = await load(
      '`GET /v1/content/{id}` + `If-None-Match` → 304',
      [`${base}/v1/content/${hot[0]}`],
      { ...auth, 'If-None-Match': etags.get(hot[0]!)! },
    );
    const loadRows = [hello, cached, conditional];

    // Fresh items to write to, so that the cached ones above stay as they were measured.
    const created = await api(base, '/v1/content/bulk', {
      auth: writer,
      body: {
        items: Array.from({ length: WRITERS * 4 }, (_, i) => ({
          op: 'create',
          data: { translations: { en: { title: `Benchmark target ${i}`, body: 'Text.' } } },
        })),
      },
    });
    const targets = (created.body.results as { id: string }[]).map((r) => r.id);
    const versions = new Map(targets.map((id) => [id, 1]));

    const patch = async (id: string, i: number) => {
      const { response, body } = await api(base, `/v1/content/${id}`, {
        method: 'PATCH',
        auth: writer,
        body: { tags: [`bench-${i}`], metadata: { run: i } },
      });
      const version = etagVersion(response.headers.get('etag'));
      versions.set(id, version);
      return { version, operation: (body.operation as { url: string }).url };
    };

    // Acknowledgement under concurrent writers, each on its own items (no re-plans).
    const ackSamples: number[] = [];
    await pool(WRITES, WRITERS, async (i) => {
      const id = targets[i % targets.length]!;
      const t0 = performance.now();
      await patch(id, i);
      ackSamples.push(performance.now() - t0);
    });

    // Durability and visibility, per write: POLL_MS pollers started with the write.
    const tracked = { ack: [] as number[], postgres: [] as number[], others: [] as number[] };
    await pool(TRACKED_WRITES, 2, async (i) => {
      const id = targets[i % targets.length]!;
      const expected = versions.get(id)! + 1;
      const t0 = performance.now();
      const seen = until(async () => {
        const r = await fetch(`${base}/v1/content/${id}`, {
          headers: { 'CF-Connecting-IP': CLIENT_IP, Authorization: `Bearer ${other.token}` },
        });
        await r.arrayBuffer();
        return r.ok && etagVersion(r.headers.get('etag')) >= expected;
      });
      const { version, operation } = await patch(id, WRITES + i);
      tracked.ack.push(performance.now() - t0);
      if (version !== expected) throw new Error(`expected v${expected}, got v${version}`);
      const persisted = until(async () => {
        const { body } = await api(base, operation, { auth: writer });
        if (body.status === 'failed') throw new Error(`write failed: ${JSON.stringify(body)}`);
        return body.status === 'applied';
      });
      tracked.others.push((await seen) - t0);
      tracked.postgres.push((await persisted) - t0);
    });

    // 1,000 creates in one request, to the 202 and to every item in Postgres.
    const bulkRows: { ack: number; applied: number }[] = [];
    for (let run = 0; run < BULK_RUNS; run++) {
      const items = Array.from({ length: BULK_SIZE }, (_, i) => ({
        op: 'create',
        data: {
          translations: {
            en: {
              title: `Bulk ${run}.${i}`,
              summary: 'A summary.',
              body: 'Body text. '.repeat(40),
            },
            ar: { title: `دفعة ${run}.${i}`, body: 'نص المقال. '.repeat(40) },
          },
          tags: ['bulk', `run-${run}`],
        },
      }));
      const t0 = performance.now();
      const { body } = await api(base, '/v1/content/bulk', { auth: writer, body: { items } });
      const ack = performance.now() - t0;
      if (body.accepted !== BULK_SIZE) throw new Error(`bulk accepted ${body.accepted}`);
      const operation = body.operation as { url: string };
      const applied = await until(async () => {
        const { body: op } = await api(base, operation.url, { auth: writer });
        const progress = op.progress as { done: number; failed: number } | null;
        if (op.status === 'failed' || (progress?.failed ?? 0) > 0) {
          throw new Error(`bulk failed: ${JSON.stringify(op)}`);
        }
        return op.status === 'applied' && progress?.done === BULK_SIZE;
      }, 300_000);
      bulkRows.push({ ack, applied: applied - t0 });
    }

    const latency = [
      summarise('cold `GET /v1/content/{id}` (Postgres), 1 client', coldSamples),
      summarise(`\`PATCH\` → 202, ${WRITERS} concurrent writers`, ackSamples),
      summarise('`PATCH` → 202, 2 writers with pollers', tracked.ack),
      summarise('`PATCH` sent → operation `applied` (in Postgres)', tracked.postgres),
      summarise('`PATCH` sent → another user reads the new version', tracked.others),
    ];
    const lines = [
      '# Content read and write paths',
      '',
      `\`npm run bench:content\` on ${new Date().toISOString().slice(0, 10)}: \`npm run dev\` (the Worker under \`wrangler dev\`, the local cloud in memory: PGlite, embedded Redis), ${seeded.length} seeded items; load generator and Worker on the same 2 cores.`,
      '',
      `## Throughput (autocannon, ${CONNECTIONS} connections, ${SECONDS} s per row after 2 s of warm-up)`,
      '',
      '| route | req/s | p50 ms | p99 ms | req/s vs hello world | p50 vs hello world | p99 vs hello world | requests | errors |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...loadRows.map(
        (r) =>
          `| ${r.name} | ${Math.round(r.rps)} | ${r.p50} | ${r.p99} | ${(r.rps / hello.rps).toFixed(2)} | ${(r.p50 / Math.max(hello.p50, 1)).toFixed(2)} | ${(r.p99 / Math.max(hello.p99, 1)).toFixed(2)} | ${r.requests} | ${r.errors} |`,
      ),
      '',
      'The content rows authenticate with an API key (verified from the isolate cache), go through the rate limiter, read the version pointer from Redis and the snapshot from the isolate memory; `/health` does none of that.',
      '',
      '## Latency (ms)',
      '',
      '| measurement | p50 | p95 | p99 | max | samples |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      ...latency.map(
        (r) => `| ${r.name} | ${ms(r.p50)} | ${ms(r.p95)} | ${ms(r.p99)} | ${ms(r.max)} | ${r.n} |`,
      ),
      '',
      `Durability and visibility are timed from sending the \`PATCH\`, polled every ${POLL_MS} ms (the operation by the writer, the item by another member with their own token). The \`WRITES\` consumer waits up to \`max_batch_timeout\` = 1 s to fill a batch, which bounds the write-to-Postgres figure from below when writes are sparse. The edge writes the version pointer to Redis before it answers \`202\`, so another reader in any isolate sees the new version on its next read.`,
      '',
      `## ${BULK_SIZE}-item bulk create (English and Arabic translations, generated slugs)`,
      '',
      '| run | request → 202 ms | request → all applied in Postgres ms | items/s end to end |',
      '| ---: | ---: | ---: | ---: |',
      ...bulkRows.map(
        (r, i) =>
          `| ${i + 1} | ${ms(r.ack)} | ${ms(r.applied)} | ${Math.round((BULK_SIZE / r.applied) * 1000)} |`,
      ),
      '',
      'Locally one consumer invocation runs at a time, so the end-to-end figure is the `WRITES` consumer persisting batches of 100 one after another (about ten statements per item, each a round trip through the Neon WebSocket proxy to PGlite). Cloudflare Queues runs more consumer invocations as the backlog grows.',
      '',
    ];
    const report = lines.join('\n');
    await writeFile(join(ROOT, 'bench/results/content.md'), report);
    console.log(report);
    if (loadRows.some((r) => r.errors > 0)) {
      throw new Error('some benchmark requests failed; the figures are not comparable');
    }
  } finally {
    if (process.env.BENCH_DEV_LOG) await writeFile(process.env.BENCH_DEV_LOG, dev.output());
    await dev.close();
  }
}

await main();
