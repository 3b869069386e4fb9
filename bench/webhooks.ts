/**
 * Outbound webhooks end to end, under `npm run dev` (local cloud in memory, its QStash calling
 * the Worker back):
 *
 * - 1,000 content items created (8 writers at a time) in an organisation with one endpoint, a
 *   receiver on this machine that verifies every request (Standard Webhooks, the endpoint's
 *   secret): the time from each create's `202` to its `content.created` event verified at the
 *   receiver, p50/p95/p99, and every event checked delivered and verified;
 * - the same with a receiver that fails 30% of attempts at random (`503` with `Retry-After: 1`,
 *   so retries come within seconds rather than on the schedule's minutes): every event must
 *   still arrive (goal: 0 lost), with the retries it took and the repeats a receiver would drop
 *   by `webhook-id`.
 *
 *   npm run bench:webhooks        # writes bench/results/webhooks.md
 */
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { verifyDelivery } from '../shared/webhook-sources/signature.ts';
import { startBenchSession } from './dev-session.ts';
import { percentile } from './measure.ts';

const ROOT = join(import.meta.dirname, '..');
const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000);
const WRITERS = Number(process.env.BENCH_WRITERS ?? 8);
const FAILURE_SHARE = 0.3;
const PACED_EVENTS = Number(process.env.BENCH_PACED_EVENTS ?? 200);
const PACE_MS = 100;
const CLIENT_IP = '198.51.100.41';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Receiver = {
  url: string;
  secret: string;
  /** Verified arrivals of each event id that were answered 2xx (ms, performance clock). */
  delivered: Map<string, number[]>;
  attempts: number;
  failuresSent: number;
  unverified: number;
  close(): Promise<void>;
};

/** A receiver that verifies every request and fails `failShare` of them with 503 + Retry-After. */
async function startReceiver(failShare: number): Promise<Receiver> {
  const receiver = {
    url: '',
    secret: '',
    delivered: new Map<string, number[]>(),
    attempts: 0,
    failuresSent: 0,
    unverified: 0,
  } as Receiver;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', async () => {
      const at = performance.now();
      receiver.attempts++;
      const body = Buffer.concat(chunks);
      const headers = new Headers();
      for (const [name, value] of Object.entries(request.headers)) {
        if (typeof value === 'string') headers.set(name, value);
      }
      const verified = await verifyDelivery({
        kind: 'standard',
        secrets: [receiver.secret],
        headers,
        body,
        now: Date.now(),
      });
      if (!verified.ok) {
        receiver.unverified++;
        response.writeHead(401);
        response.end();
        return;
      }
      if (Math.random() < failShare) {
        receiver.failuresSent++;
        response.writeHead(503, { 'Retry-After': '1' });
        response.end('busy');
        return;
      }
      const { id } = JSON.parse(body.toString('utf8')) as { id: string };
      const list = receiver.delivered.get(id) ?? [];
      list.push(at);
      receiver.delivered.set(id, list);
      response.writeHead(204);
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}

async function pool(count: number, concurrency: number, op: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) await op(i);
    }),
  );
}

type Phase = {
  label: string;
  latencies: number[];
  accepted: number;
  delivered: number;
  lost: number;
  repeats: number;
  attempts: number;
  failuresSent: number;
  unverified: number;
  drainSeconds: number;
};

async function main() {
  const dev = await startBenchSession('webhooks');
  const base = dev.base;
  try {
    const token = await dev.login();
    const api = async (path: string, init: RequestInit = {}) => {
      const response = await fetch(`${base}${path}`, {
        ...init,
        headers: {
          Authorization: `Bearer ${token}`,
          'Content-Type': 'application/json',
          'CF-Connecting-IP': CLIENT_IP,
        },
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${path}: ${response.status} ${text.slice(0, 300)}`);
      return text ? (JSON.parse(text) as Record<string, unknown>) : {};
    };
    // The sample endpoint would receive every event too: this run measures one endpoint.
    const existing = (await api('/v1/webhooks/endpoints')) as { items: { id: string }[] };
    for (const e of existing.items)
      await api(`/v1/webhooks/endpoints/${e.id}/disable`, { method: 'POST' });

    const phase = async (
      label: string,
      failShare: number,
      events = EVENTS,
      paceMs = 0,
    ): Promise<Phase> => {
      const receiver = await startReceiver(failShare);
      const endpoint = (await api('/v1/webhooks/endpoints', {
        method: 'POST',
        body: JSON.stringify({ url: receiver.url, event_types: ['content.created'] }),
      })) as { id: string; secret: string };
      receiver.secret = endpoint.secret;
      const acceptedAt = new Map<string, number>();
      const run = Date.now();
      await pool(events, paceMs > 0 ? 1 : WRITERS, async (i) => {
        if (paceMs > 0) await sleep(paceMs);
        const created = (await api('/v1/content', {
          method: 'POST',
          body: JSON.stringify({ translations: { en: { title: `Webhook bench ${run} ${i}` } } }),
        })) as { content: { id: string } };
        acceptedAt.set(`${created.content.id}.v1`, performance.now());
      });
      const t0 = performance.now();
      const deadline = t0 + 300_000;
      while (performance.now() < deadline) {
        if ([...acceptedAt.keys()].every((id) => receiver.delivered.has(id))) break;
        await sleep(250);
      }
      const drainSeconds = (performance.now() - t0) / 1000;
      // A little longer, so late repeats are counted too.
      await sleep(3_000);
      await api(`/v1/webhooks/endpoints/${endpoint.id}/disable`, { method: 'POST' });
      await receiver.close();
      const latencies: number[] = [];
      let repeats = 0;
      for (const [id, accepted] of acceptedAt) {
        const arrivals = receiver.delivered.get(id);
        if (!arrivals) continue;
        latencies.push(arrivals[0]! - accepted);
        repeats += arrivals.length - 1;
      }
      const delivered = [...acceptedAt.keys()].filter((id) => receiver.delivered.has(id)).length;
      return {
        label,
        latencies,
        accepted: acceptedAt.size,
        delivered,
        lost: acceptedAt.size - delivered,
        repeats,
        attempts: receiver.attempts,
        failuresSent: receiver.failuresSent,
        unverified: receiver.unverified,
        drainSeconds,
      };
    };

    const paced = await phase(
      `paced: one create every ${PACE_MS} ms (no backlog)`,
      0,
      PACED_EVENTS,
      PACE_MS,
    );
    const healthy = await phase('receiver answers every attempt', 0);
    const flaky = await phase(`receiver fails ${FAILURE_SHARE * 100}% of attempts`, FAILURE_SHARE);
    const ok =
      paced.lost === 0 &&
      healthy.accepted === EVENTS &&
      healthy.lost === 0 &&
      healthy.unverified === 0 &&
      flaky.accepted === EVENTS &&
      flaky.lost === 0 &&
      flaky.unverified === 0 &&
      flaky.failuresSent > 0;
    const ms = (n: number) => `${Math.round(n).toLocaleString('en-US')} ms`;
    const row = (p: Phase) => {
      const sorted = [...p.latencies].sort((a, b) => a - b);
      return `| ${p.label} | ${p.accepted} | ${p.delivered} | ${p.lost} | ${ms(percentile(sorted, 0.5))} | ${ms(percentile(sorted, 0.95))} | ${ms(percentile(sorted, 0.99))} | ${p.attempts} (${p.failuresSent} failed) | ${p.repeats} | ${p.unverified} |`;
    };
    const report = [
      '# Outbound webhooks',
      '',
      `Run ${new Date().toISOString()} with \`npm run bench:webhooks\` (\`npm run dev\`, local cloud in memory, its QStash calling the Worker back).`,
      '',
      `${EVENTS.toLocaleString('en-US')} content items created as fast as ${WRITERS} writers go (and first ${PACED_EVENTS}, one at a time, paced), in the sample organisation with one endpoint subscribed to \`content.created\`. Latency: from each create's \`202\` to its event verified at the receiver (first successful arrival): the \`WRITES\` batch (up to 1 s), the \`JOBS\` batch (up to 2 s), QStash's callback, the signed POST.`,
      '',
      '| phase | events | delivered | lost | p50 | p95 | p99 | attempts received | repeats | unverified |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      row(paced),
      row(healthy),
      row(flaky),
      '',
      'Under load the figure is mostly queueing: locally each queue has one consumer working one batch at a time (`JOBS` batches of 10, half of them real-time publishes), where Cloudflare runs consumers concurrently; the paced row is the pipeline without a backlog.',
      '',
      `Failures are \`503\` with \`Retry-After: 1\`, at random per attempt; a \`500\` without it would wait for the schedule (5 s, then 5 min, …). Repeats are events that reached the receiver successfully more than once (a receiver drops them by \`webhook-id\`). Waiting for the last event after the last create: ${healthy.drainSeconds.toFixed(1)} s and ${flaky.drainSeconds.toFixed(1)} s.`,
      '',
      `Check: ${ok ? 'passed: every event delivered and verified in both phases, 0 lost' : 'FAILED'}.`,
      '',
    ].join('\n');
    await writeFile(join(ROOT, 'bench/results/webhooks.md'), report);
    console.log(report);
    if (!ok) process.exitCode = 1;
  } finally {
    await dev.close();
  }
}

await main();
