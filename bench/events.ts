/**
 * Engagement events under `npm run dev` (local cloud in memory, the Worker in workerd):
 *
 * - acknowledgement: `POST /v1/events` with 1,000 events a request (views of the sample items,
 *   a session each, from a publishable key), {@link CONCURRENCY} requests at a time: latency of
 *   each `202` (p50/p95), every event checked `accepted`;
 * - into Postgres: from the first request sent until every accepted event is a row of `events`
 *   (polled), as events per second;
 * - repeats: one batch sent again: every event must come back `duplicate`, and the row count must
 *   not move.
 *
 *   npm run bench:events        # writes bench/results/events.md
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { neon, neonConfig } from '@neondatabase/serverless';
import { startBenchSession } from './dev-session.ts';
import { percentile } from './measure.ts';

const ROOT = join(import.meta.dirname, '..');
const BATCHES = Number(process.env.BENCH_BATCHES ?? 30);
const BATCH_SIZE = 1_000;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 2);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Answer = { accepted: number; duplicates: number; refused: number; failed: number };

async function main() {
  const dev = await startBenchSession('events');
  try {
    const run = `bench-${Date.now()}`;
    const key = await dev.apiKey('events bench', ['events:write']);
    if (!key.secret.startsWith('pk_')) throw new Error(`not a publishable key: ${key.secret}`);
    const token = await dev.login();
    const listed = (await (
      await fetch(`${dev.base}/v1/content?limit=100`, {
        headers: { Authorization: `Bearer ${token}` },
      })
    ).json()) as { items: { id: string }[] };
    const items = listed.items.map((item) => item.id);
    if (items.length === 0) throw new Error('no sample content');

    const batch = (b: number) => ({
      events: Array.from({ length: BATCH_SIZE }, (_, i) => ({
        event_id: `${run}-${b}-${i}`,
        type: i % 10 === 0 ? 'content.clicked' : 'content.viewed',
        content_id: items[(b * 7 + i) % items.length],
        occurred_at: new Date().toISOString(),
        anonymous_id: `${run}-reader-${i % 200}`,
        session_id: `${run}-session-${b}-${i % 50}`,
        context: { locale: i % 2 ? 'ar' : 'en' },
      })),
    });
    const send = async (body: unknown) => {
      const t = performance.now();
      const response = await fetch(`${dev.base}/v1/events`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${key.secret}`,
          'Content-Type': 'application/json',
        },
        body: JSON.stringify(body),
      });
      const text = await response.text();
      const ms = performance.now() - t;
      if (response.status !== 202) throw new Error(`${response.status}: ${text.slice(0, 300)}`);
      return { ms, answer: JSON.parse(text) as Answer };
    };

    const latencies: number[] = [];
    let accepted = 0;
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let b = next++; b < BATCHES; b = next++) {
          const { ms, answer } = await send(batch(b));
          latencies.push(ms);
          accepted += answer.accepted;
        }
      }),
    );
    const sentSeconds = (performance.now() - t0) / 1000;

    neonConfig.fetchEndpoint = (host, p) => `http://${host}:${p}/sql`;
    const sql = neon(dev.setting('DATABASE_URL'));
    const count = async () =>
      (
        (await sql`select count(*)::int as n from events where session_id like ${`${run}-%`}`) as {
          n: number;
        }[]
      )[0]!.n;
    const deadline = performance.now() + 300_000;
    let stored = 0;
    for (;;) {
      stored = await count();
      if (stored >= accepted || performance.now() > deadline) break;
      await sleep(250);
    }
    const storedSeconds = (performance.now() - t0) / 1000;

    const repeat = await send(batch(0));
    await sleep(3_000);
    const after = await count();

    latencies.sort((a, b) => a - b);
    const total = BATCHES * BATCH_SIZE;
    const ok =
      accepted === total &&
      stored === total &&
      repeat.answer.duplicates === BATCH_SIZE &&
      repeat.answer.accepted === 0 &&
      after === total;
    const ms = (n: number) => `${n.toFixed(1)} ms`;
    const report = [
      '# Engagement events',
      '',
      `Run ${new Date().toISOString()} with \`npm run bench:events\` (\`npm run dev\`, local cloud in memory, the Worker in workerd, the client on the same two cores).`,
      '',
      `## ${BATCHES} requests of ${BATCH_SIZE.toLocaleString('en-US')} events, ${CONCURRENCY} at a time (a publishable key)`,
      '',
      '| figure | value |',
      '| --- | --- |',
      `| events accepted | ${accepted.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} |`,
      `| \`202\` of a 1,000-event request, p50 | ${ms(percentile(latencies, 0.5))} |`,
      `| \`202\` of a 1,000-event request, p95 | ${ms(percentile(latencies, 0.95))} |`,
      `| accepted per second at the edge | ${Math.round(accepted / sentSeconds).toLocaleString('en-US')} |`,
      `| rows in \`events\` | ${stored.toLocaleString('en-US')} |`,
      `| into Postgres, first request → last row, events per second | ${Math.round(stored / storedSeconds).toLocaleString('en-US')} (${storedSeconds.toFixed(1)} s) |`,
      `| one request sent again: duplicates | ${repeat.answer.duplicates} (accepted: ${repeat.answer.accepted}), in ${ms(repeat.ms)} |`,
      `| rows after the repeat | ${after.toLocaleString('en-US')} |`,
      '',
      `Check: ${ok ? 'passed: every event accepted and stored once; the repeat stored nothing' : 'FAILED'}.`,
      '',
    ].join('\n');
    await writeFile(join(ROOT, 'bench/results/events.md'), report);
    console.log(report);
    if (!ok) process.exitCode = 1;
  } finally {
    await dev.close();
  }
}

await main();
