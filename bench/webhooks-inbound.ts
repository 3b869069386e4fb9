/**
 * What inbound webhooks cost, and whether replays stay out:
 *
 * - verification in process: `verifyDelivery` for each kind on a 1 KiB body, against a baseline
 *   of parsing that body alone (Node's WebCrypto, the same `crypto.subtle` API the Worker uses);
 * - per request, under `npm run dev`: a signed delivery whose id was seen (verified, then dropped
 *   as a duplicate: no write) against an unsigned one (no signature headers: the same source
 *   look-up and secret opening, refused before any HMAC), in the same run;
 * - 1,000 upstream deliveries, 10% of them repeats of earlier ones (same id and body, signed
 *   again), 8 at a time: every answer is checked (`applied` or `duplicate`), and Postgres must
 *   end with exactly the distinct items, no more.
 *
 *   npm run bench:webhooks-inbound        # writes bench/results/webhooks-inbound.md
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { neon, neonConfig } from '@neondatabase/serverless';
import { signDelivery, verifyDelivery } from '../shared/webhook-sources/signature.ts';
import { startBenchSession } from './dev-session.ts';
import { percentile } from './measure.ts';

const ROOT = join(import.meta.dirname, '..');
const DELIVERIES = Number(process.env.BENCH_DELIVERIES ?? 1_000);
const REPEAT_SHARE = 0.1;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const LATENCY_SAMPLES = Number(process.env.BENCH_LATENCY_SAMPLES ?? 300);
const CLIENT_IP = '198.51.100.40';

const encoder = new TextEncoder();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Stats = { p50: number; p95: number; mean: number; n: number };
function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    mean: samples.reduce((a, b) => a + b, 0) / samples.length,
    n: samples.length,
  };
}

const body1k = JSON.stringify({
  id: 'evt_bench',
  type: 'post.updated',
  object: { id: 'post-1', title: 'Benchmark', body: 'x'.repeat(900) },
});

/** Microseconds per verification of each kind, and of the baseline (JSON.parse only). */
async function inProcess() {
  const iterations = 3_000;
  const now = Date.now();
  const ts = Math.floor(now / 1000);
  const hmac = {
    signature_header: 'X-Signature',
    algorithm: 'sha256' as const,
    encoding: 'hex' as const,
    prefix: '',
    timestamp_header: 'X-Timestamp',
  };
  const rows: { name: string; us: number }[] = [];
  const time = async (name: string, op: () => Promise<unknown> | unknown) => {
    for (let i = 0; i < 200; i++) await op();
    const t0 = performance.now();
    for (let i = 0; i < iterations; i++) await op();
    rows.push({ name, us: ((performance.now() - t0) * 1000) / iterations });
  };
  const bytes = encoder.encode(body1k);
  await time('baseline: parse the body only', () => JSON.parse(new TextDecoder().decode(bytes)));
  for (const [kind, secret] of [
    ['standard', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw4x0nU3uJk6Q='],
    ['github', 'github-bench-secret-123'],
    ['stripe', 'whsec_stripe_bench_secret'],
    ['hmac', 'hmac-bench-secret-12345'],
  ] as const) {
    const headers = new Headers(
      await signDelivery(kind, secret, body1k, { id: 'msg_bench', timestamp: ts, hmac }),
    );
    await time(`verify ${kind}`, async () => {
      const verified = await verifyDelivery({
        kind,
        hmac,
        headers,
        body: bytes,
        secrets: [secret],
        now,
      });
      if (!verified.ok) throw new Error(`${kind} did not verify`);
    });
    if (kind === 'standard') {
      await time('verify standard, two secrets (rotation grace)', () =>
        verifyDelivery({ kind, headers, body: bytes, secrets: ['whsec_b3RoZXI=', secret], now }),
      );
    }
  }
  return rows;
}

async function pool(count: number, concurrency: number, op: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) await op(i);
    }),
  );
}

async function main() {
  const verification = await inProcess();
  const dev = await startBenchSession('webhooks-inbound');
  const base = dev.base;
  try {
    const token = await dev.login();
    const created = await fetch(`${base}/v1/webhooks/sources`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Authorization: `Bearer ${token}`,
        'CF-Connecting-IP': CLIENT_IP,
      },
      body: JSON.stringify({
        name: 'Benchmark upstream',
        kind: 'standard',
        mapping: { external_id: '/object/id', title: '/object/title', body: '/object/body' },
      }),
    });
    if (created.status !== 201) throw new Error(`create source: ${await created.text()}`);
    const source = (await created.json()) as { id: string; secret: string };
    const url = `${base}/webhooks/inbound/${source.id}`;
    const post = async (text: string, headers: Record<string, string>) => {
      const t0 = performance.now();
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': CLIENT_IP, ...headers },
        body: text,
      });
      const answer = (await response.json()) as { status?: string };
      return { ms: performance.now() - t0, status: response.status, body: answer };
    };
    const sign = (text: string, id: string) =>
      signDelivery('standard', source.secret, text, {
        id,
        timestamp: Math.floor(Date.now() / 1000),
      });

    // Per request: one delivery applied, then its replays (verified, dropped) vs unsigned ones.
    const first = await post(body1k, await sign(body1k, 'msg_latency'));
    if (first.status !== 202) throw new Error(`first delivery: ${JSON.stringify(first.body)}`);
    const signed: number[] = [];
    const unsigned: number[] = [];
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      const replay = await post(body1k, await sign(body1k, 'msg_latency'));
      if (replay.status !== 200 || replay.body.status !== 'duplicate') {
        throw new Error(`replay: ${replay.status} ${JSON.stringify(replay.body)}`);
      }
      const bare = await post(body1k, {});
      if (bare.status !== 401) throw new Error(`unsigned: ${bare.status}`);
      if (i >= 20) {
        signed.push(replay.ms);
        unsigned.push(bare.ms);
      }
    }

    // Refusals: an unknown source against a known one with a bad signature, interleaved.
    const unknownUrl = `${base}/webhooks/inbound/whs_01jd5x3k7yf0v9r2m4q6s8t1wz`;
    const forged = await signDelivery(
      'standard',
      'whsec_Zm9yZ2VkLXNlY3JldC1mb3ItdGhlLWJlbmNo',
      body1k,
      {
        id: 'msg_forged',
        timestamp: Math.floor(Date.now() / 1000),
      },
    );
    const unknownMs: number[] = [];
    const badMs: number[] = [];
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      for (const [target, into] of [
        [unknownUrl, unknownMs],
        [url, badMs],
      ] as const) {
        const t0 = performance.now();
        const response = await fetch(target, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': CLIENT_IP, ...forged },
          body: body1k,
        });
        await response.arrayBuffer();
        if (response.status !== 401) throw new Error(`refusal: ${response.status}`);
        if (i >= 20) into.push(performance.now() - t0);
      }
    }

    // 1,000 deliveries, 10% repeats of earlier ones, in a shuffled order.
    const distinct = Math.round(DELIVERIES * (1 - REPEAT_SHARE));
    const events = Array.from({ length: distinct }, (_, i) => ({
      id: `msg_bench_${i}`,
      text: JSON.stringify({
        id: `evt_${i}`,
        type: 'post.created',
        object: { id: `bench-${i}`, title: `Upstream item ${i}`, body: `Body ${i}` },
      }),
    }));
    const order = events.map((_, i) => i);
    for (let r = 0; r < DELIVERIES - distinct; r++) {
      // A repeat comes after its original: insert it somewhere later than the first copy.
      const original = Math.floor(Math.random() * distinct);
      const at =
        order.indexOf(original) +
        1 +
        Math.floor(Math.random() * (order.length - order.indexOf(original)));
      order.splice(at, 0, original);
    }
    const counts = new Map<string, number>();
    const latencies: number[] = [];
    const t0 = performance.now();
    await pool(order.length, CONCURRENCY, async (n) => {
      const event = events[order[n]!]!;
      const answer = await post(event.text, await sign(event.text, event.id));
      const key = `${answer.status} ${answer.body.status ?? ''}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      latencies.push(answer.ms);
    });
    const elapsed = performance.now() - t0;
    const applied = counts.get('202 applied') ?? 0;
    const duplicates = counts.get('200 duplicate') ?? 0;

    neonConfig.fetchEndpoint = (host, p) => `http://${host}:${p}/sql`;
    const sql = neon(dev.setting('DATABASE_URL'));
    // The WRITES consumer persists after the 202s: poll (with a deadline) until it settles.
    const deadline = performance.now() + 180_000;
    let stored = 0;
    for (let last = -1; ; ) {
      const [row] =
        (await sql`select count(*)::int as n from content where created_by = ${source.id}`) as {
          n: number;
        }[];
      stored = row!.n;
      if (stored >= distinct + 1 && stored === last) break;
      if (performance.now() > deadline) break;
      last = stored;
      await sleep(1_000);
    }
    const ok =
      applied === distinct && duplicates === DELIVERIES - distinct && stored === distinct + 1;

    const us = (n: number) => `${n.toFixed(1)} µs`;
    const ms = (n: number) => `${n.toFixed(2)} ms`;
    const s = stats(signed);
    const u = stats(unsigned);
    const all = stats(latencies);
    const report = [
      '# Inbound webhooks',
      '',
      `Run ${new Date().toISOString()} with \`npm run bench:webhooks-inbound\` (\`npm run dev\`, local cloud in memory).`,
      '',
      '## Signature verification, in process (1 KiB body)',
      '',
      '| what | per call |',
      '| --- | --- |',
      ...verification.map((r) => `| ${r.name} | ${us(r.us)} |`),
      '',
      '## Per request (same run, sequential)',
      '',
      '| request | p50 | p95 | mean | n |',
      '| --- | --- | --- | --- | --- |',
      `| unsigned (no signature headers: look-up, secret opened, refused 401) | ${ms(u.p50)} | ${ms(u.p95)} | ${ms(u.mean)} | ${u.n} |`,
      `| signed, seen before (verified, Redis \`SET NX\`, logged, 200 duplicate) | ${ms(s.p50)} | ${ms(s.p95)} | ${ms(s.mean)} | ${s.n} |`,
      `| refused: unknown source (dummy secret and HMAC) | ${ms(stats(unknownMs).p50)} | ${ms(stats(unknownMs).p95)} | ${ms(stats(unknownMs).mean)} | ${unknownMs.length} |`,
      `| refused: known source, bad signature | ${ms(stats(badMs).p50)} | ${ms(stats(badMs).p95)} | ${ms(stats(badMs).mean)} | ${badMs.length} |`,
      '',
      `Difference of the medians, signed duplicate against unsigned: ${ms(s.p50 - u.p50)} (the HMAC itself is the in-process figure above; the rest is the dedupe round trip to Redis and the log row).`,
      '',
      `## ${DELIVERIES.toLocaleString('en-US')} deliveries, ${Math.round(REPEAT_SHARE * 100)}% repeats, ${CONCURRENCY} at a time`,
      '',
      '| figure | value |',
      '| --- | --- |',
      `| answers | ${[...counts].map(([k, v]) => `${k}: ${v}`).join(', ')} |`,
      `| throughput | ${((DELIVERIES / elapsed) * 1000).toFixed(0)} deliveries/s |`,
      `| latency p50 / p95 | ${ms(all.p50)} / ${ms(all.p95)} |`,
      `| distinct items expected in Postgres | ${distinct} (+1 from the latency run) |`,
      `| items in Postgres created by the source | ${stored} |`,
      `| check | ${ok ? 'passed: exactly the distinct items, every repeat dropped' : 'FAILED'} |`,
      '',
    ].join('\n');
    await writeFile(join(ROOT, 'bench/results/webhooks-inbound.md'), report);
    console.log(report);
    if (!ok) process.exitCode = 1;
  } finally {
    await dev.close();
  }
}

await main();
