/**
 * Real-time channels under `npm run dev` (local cloud in memory, the Worker in workerd):
 *
 * - fan-out: 1,000 WebSocket clients on one channel (`org:<id>`), each with its own ticket; then
 *   content writes whose events reach the channel through the write path (`WRITES` → `JOBS` →
 *   `REALTIME`). Latency is from the object's publish (`published_at`, this machine's clock) to
 *   each client's receipt: p50/p95/p99 over every (event, client) pair, and every client must get
 *   every event (checked);
 * - resume: clients that disconnect at random while events keep coming (1,000 disconnects in
 *   all), each reconnecting with a new ticket and `since`/`epoch`: events lost (an offset a
 *   client never got between its first and the last) and duplicated (an offset got twice), goal
 *   0 and 0.
 *
 *   npm run bench:realtime        # writes bench/results/realtime.md
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startBenchSession } from './dev-session.ts';
import { percentile } from './measure.ts';

const ROOT = join(import.meta.dirname, '..');
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 1_000);
const FANOUT_EVENTS = Number(process.env.BENCH_FANOUT_EVENTS ?? 20);
const RESUME_CLIENTS = Number(process.env.BENCH_RESUME_CLIENTS ?? 100);
const DISCONNECTS = Number(process.env.BENCH_DISCONNECTS ?? 1_000);
const CLIENT_IP = '198.51.100.42';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Message = {
  type: string;
  epoch?: string;
  offset?: number;
  published_at?: number;
  event?: { id: string };
};

async function pool(count: number, concurrency: number, op: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) await op(i);
    }),
  );
}

async function main() {
  const dev = await startBenchSession('realtime');
  const base = dev.base;
  const wsBase = base.replace(/^http/, 'ws');
  const sockets: WebSocket[] = [];
  const live = new Set<WebSocket>();
  const serverCloses = new Map<number, number>();
  /** Sockets this client closed itself: their close events are not the server's doing. */
  const closedHere = new WeakSet<WebSocket>();
  const hangUp = (ws: WebSocket) => {
    closedHere.add(ws);
    ws.close(1000);
  };
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  try {
    const key = await dev.apiKey('realtime bench', ['content:read', 'content:write']);
    const headers = {
      Authorization: `Bearer ${key.secret}`,
      'Content-Type': 'application/json',
      'CF-Connecting-IP': CLIENT_IP,
    };
    const api = async (path: string, body?: unknown) => {
      const response = await fetch(`${base}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${path}: ${response.status} ${text.slice(0, 300)}`);
      return JSON.parse(text) as Record<string, unknown>;
    };
    const orgId = ((await api('/v1/whoami')) as { org_id: string }).org_id;
    const channel = `org:${orgId}`;

    /** Opens one client; resolves once its welcome arrives. */
    const open = async (
      onMessage: (m: Message, at: number) => void,
      resume?: { since: number; epoch: string },
    ): Promise<WebSocket> => {
      const { ticket } = (await api('/v1/realtime/tickets', { channels: [channel] })) as {
        ticket: string;
      };
      const params = new URLSearchParams({ channel, ticket });
      if (resume) {
        params.set('since', String(resume.since));
        params.set('epoch', resume.epoch);
      }
      const ws = new WebSocket(`${wsBase}/v1/realtime/connect?${params}`);
      return new Promise((resolve, reject) => {
        ws.onmessage = (e) => {
          const at = performance.timeOrigin + performance.now();
          if (e.data === 'pong') return;
          const message = JSON.parse(String(e.data)) as Message;
          if (message.type === 'welcome') {
            live.add(ws);
            resolve(ws);
          }
          onMessage(message, at);
        };
        ws.onerror = () => reject(new Error('WebSocket failed'));
        ws.onclose = (e) => {
          live.delete(ws);
          // Closes the client did not ask for (the server's codes), counted for the report.
          if (!closedHere.has(ws)) {
            serverCloses.set(e.code, (serverCloses.get(e.code) ?? 0) + 1);
          }
        };
      });
    };
    const write = (title: string) => api('/v1/content', { translations: { en: { title } } });
    // Clients ping as the protocol asks (a socket silent for REALTIME_HEARTBEAT_SECONDS is closed).
    heartbeat = setInterval(() => {
      for (const ws of live) if (ws.readyState === WebSocket.OPEN) ws.send('ping');
    }, 20_000);

    // Fan-out: every client records when each event arrived.
    const arrivals: Map<number, number>[] = [];
    const publishedAt = new Map<number, number>();
    const t0 = performance.now();
    await pool(CLIENTS, 16, async (i) => {
      const seen = new Map<number, number>();
      arrivals[i] = seen;
      sockets.push(
        await open((m, at) => {
          if (m.type !== 'event') return;
          seen.set(m.offset!, at);
          publishedAt.set(m.offset!, m.published_at!);
        }),
      );
    });
    const connectSeconds = (performance.now() - t0) / 1000;
    const connected = sockets.length;
    const before = publishedAt.size;
    for (let n = 0; n < FANOUT_EVENTS; n++) {
      await write(`Realtime bench ${Date.now()} ${n}`);
      await sleep(250);
    }
    const deadline = performance.now() + 120_000;
    while (performance.now() < deadline) {
      if (
        publishedAt.size - before >= FANOUT_EVENTS &&
        arrivals.every((a) => a.size >= FANOUT_EVENTS)
      )
        break;
      await sleep(200);
    }
    const latencies: number[] = [];
    let missing = 0;
    for (const [offset, published] of publishedAt) {
      for (const seen of arrivals) {
        const at = seen.get(offset);
        if (at === undefined) missing++;
        else latencies.push(at - published);
      }
    }
    latencies.sort((a, b) => a - b);
    // Per event: when the first and the last client got it. A large first says a fixed cost on
    // the way (queue, proxy); a large last−first says the sends themselves, one socket at a time.
    const firsts: number[] = [];
    const lasts: number[] = [];
    for (const [offset, published] of publishedAt) {
      const times = arrivals.map((seen) => seen.get(offset)).filter((t) => t !== undefined);
      if (times.length === 0) continue;
      firsts.push(Math.min(...times) - published);
      lasts.push(Math.max(...times) - published);
    }
    firsts.sort((a, b) => a - b);
    lasts.sort((a, b) => a - b);
    for (const ws of sockets.splice(0)) hangUp(ws);

    // Resume: clients drop and come back with `since` while events keep coming.
    type Client = { offsets: number[]; epoch: string; ws: WebSocket | null };
    const clients: Client[] = [];
    await pool(RESUME_CLIENTS, 16, async (i) => {
      const client: Client = { offsets: [], epoch: '', ws: null };
      clients[i] = client;
      const listen = (m: Message) => {
        if (m.type === 'welcome') client.epoch = m.epoch!;
        if (m.type === 'event') client.offsets.push(m.offset!);
        if (m.type === 'discontinuity') client.offsets.push(-1);
      };
      client.ws = await open(listen);
    });
    let writing = true;
    let written = 0;
    const writer = (async () => {
      while (writing) {
        await write(`Resume bench ${Date.now()} ${written++}`);
        await sleep(100);
      }
    })();
    let disconnects = 0;
    const perClient = Math.ceil(DISCONNECTS / RESUME_CLIENTS);
    await pool(RESUME_CLIENTS, 16, async (i) => {
      const client = clients[i]!;
      for (let d = 0; d < perClient && disconnects < DISCONNECTS; d++) {
        await sleep(100 + Math.random() * 400);
        hangUp(client.ws!);
        disconnects++;
        const last = client.offsets.filter((o) => o > 0).at(-1) ?? 0;
        await sleep(Math.random() * 300);
        client.ws = await open(
          (m) => {
            if (m.type === 'event') client.offsets.push(m.offset!);
            if (m.type === 'discontinuity') client.offsets.push(-1);
          },
          { since: last, epoch: client.epoch },
        );
      }
    });
    writing = false;
    await writer;
    // Let the last events reach everyone.
    await sleep(8_000);
    const newest = Math.max(...clients.flatMap((c) => c.offsets));
    let lost = 0;
    let duplicated = 0;
    let discontinuities = 0;
    for (const client of clients) {
      const got = client.offsets.filter((o) => o > 0);
      discontinuities += client.offsets.filter((o) => o === -1).length;
      const unique = new Set(got);
      duplicated += got.length - unique.size;
      const first = Math.min(...got);
      for (let o = first; o <= newest; o++) if (!unique.has(o)) lost++;
      if (client.ws) hangUp(client.ws);
    }

    const ok =
      connected === CLIENTS &&
      missing === 0 &&
      latencies.length === CLIENTS * publishedAt.size &&
      lost === 0 &&
      duplicated === 0 &&
      disconnects >= DISCONNECTS;
    const ms = (n: number) => `${n.toFixed(1)} ms`;
    const report = [
      '# Real-time channels',
      '',
      `Run ${new Date().toISOString()} with \`npm run bench:realtime\` (\`npm run dev\`, local cloud in memory, the Worker in workerd; clients are Node's WebSocket on the same two cores).`,
      '',
      `## Fan-out: ${CLIENTS.toLocaleString('en-US')} WebSocket clients on one channel`,
      '',
      '| figure | value |',
      '| --- | --- |',
      `| clients connected (a ticket each) | ${connected} in ${connectSeconds.toFixed(1)} s |`,
      `| events published through the write path | ${publishedAt.size} |`,
      `| (event, client) deliveries measured | ${latencies.length.toLocaleString('en-US')} (missing: ${missing}) |`,
      `| publish → received, p50 | ${ms(percentile(latencies, 0.5))} |`,
      `| publish → received, p95 | ${ms(percentile(latencies, 0.95))} |`,
      `| publish → received, p99 | ${ms(percentile(latencies, 0.99))} |`,
      `| publish → first client, p50 over events | ${ms(percentile(firsts, 0.5))} |`,
      `| publish → last client, p50 over events | ${ms(percentile(lasts, 0.5))} |`,
      `| connections the server closed (by code) | ${[...serverCloses].map(([code, n]) => `${code}: ${n}`).join(', ') || 'none'} |`,
      '',
      `## Resume: ${disconnects.toLocaleString('en-US')} disconnects of ${RESUME_CLIENTS} clients while events kept coming`,
      '',
      '| figure | value |',
      '| --- | --- |',
      `| events written meanwhile | ${written} |`,
      `| events lost (an offset a client never got) | ${lost} |`,
      `| events duplicated | ${duplicated} |`,
      `| discontinuities | ${discontinuities} |`,
      '',
      `Check: ${ok ? 'passed: every client got every event, once' : 'FAILED'}.`,
      '',
    ].join('\n');
    await writeFile(join(ROOT, 'bench/results/realtime.md'), report);
    console.log(report);
    if (!ok) {
      // What the Worker said meanwhile (warnings and errors), to tell why.
      console.error(dev.output().slice(-8_000));
      process.exitCode = 1;
    }
  } finally {
    clearInterval(heartbeat);
    for (const ws of sockets) hangUp(ws);
    await dev.close();
  }
}

await main();
