/**
 * What authentication and rate limiting cost a request: `GET /v1/whoami` (a route that does
 * nothing but describe the caller) under `wrangler dev`, driven by autocannon from this process:
 *
 * - no auth, no limiter: anonymous, from an allow-listed IP (allow-listed callers skip the
 *   limiter) — the baseline;
 * - JWT: an access token, allow-listed (its session's state cached in the isolate, as for any
 *   session in steady use);
 * - JWT, session not cached: a different session on every request, so each one asks its user's
 *   `SESSIONS` object (the cost of a revocation check that misses the isolate's cache);
 * - API key, cached: one key, verified from the isolate's cache after the first call;
 * - API key, uncached: a different key on every request (memory and KV miss, Postgres);
 * - API key + rate limiter: the cached key from an IP that is not allow-listed, with a key
 *   limit too high to refuse anything, so every request goes through the limiter.
 *
 * It also measures how long a revoked key and a signed-out session keep working (in the isolate
 * that revoked them).
 *
 *   npm run bench:auth                 # writes bench/results/auth.md
 *   BENCH_SECONDS=20 npm run bench:auth
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SAMPLE_PASSWORD, SAMPLE_USERS } from '../tools/db/sample-data/people.ts';
import { freePort, startDevProcess } from '../tools/dev-process.ts';
import { type LoadRow, loadTest } from './load.ts';

const ROOT = join(import.meta.dirname, '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const UNCACHED_KEYS = Number(process.env.BENCH_UNCACHED_KEYS ?? 1_500);
/** Sessions per sample user for the uncached-session row (a user keeps at most 50 live). */
const SESSIONS_PER_USER = Number(process.env.BENCH_SESSIONS_PER_USER ?? 40);
const ALLOWED_IP = '198.51.100.10';
const LIMITED_IP = '198.51.100.20';

type Json = Record<string, unknown>;

async function api(
  base: string,
  path: string,
  init: { method?: string; token?: string; body?: unknown; ip?: string } = {},
) {
  const response = await fetch(`${base}${path}`, {
    method: init.method ?? (init.body ? 'POST' : 'GET'),
    headers: {
      'CF-Connecting-IP': init.ip ?? ALLOWED_IP,
      ...(init.token ? { Authorization: `Bearer ${init.token}` } : {}),
      ...(init.body ? { 'Content-Type': 'application/json' } : {}),
    },
    ...(init.body ? { body: JSON.stringify(init.body) } : {}),
  });
  const body = (await response.json().catch(() => ({}))) as Json;
  if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(body)}`);
  return { response, body };
}

/** Throughput of `url`; `perRequest` gives each request its own credential. */
const load = (
  name: string,
  url: string,
  headers: Record<string, string>,
  options: { perRequest?: () => string; amount?: number } = {},
): Promise<LoadRow> =>
  loadTest(name, url, {
    connections: CONNECTIONS,
    seconds: SECONDS,
    headers,
    ...(options.amount ? { amount: options.amount } : {}),
    ...(options.perRequest
      ? {
          setupRequest: (request) => ({
            ...request,
            headers: { ...request.headers, Authorization: `Bearer ${options.perRequest!()}` },
          }),
        }
      : {}),
  });

/** Polls `url` with `token` from now until it is refused: how long that took, in how many polls. */
async function untilRefused(url: string, token: string, limitMs: number) {
  const started = performance.now();
  for (let polls = 1; ; polls++) {
    const response = await fetch(url, {
      headers: { 'CF-Connecting-IP': ALLOWED_IP, Authorization: `Bearer ${token}` },
    });
    await response.arrayBuffer();
    if (response.status === 401) return { ms: performance.now() - started, polls };
    if (performance.now() - started > limitMs) {
      throw new Error(`still accepted ${limitMs / 1000} s after its revocation`);
    }
  }
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'sift-bench-auth-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // Request log lines cost the Worker (and this machine's two cores) more than auth does.
  const { child: dev } = await startDevProcess({
    dir,
    port,
    env: { LOG_LEVEL: 'warn' },
    timeoutMs: 120_000,
  });
  try {
    const admin = await api(base, '/v1/auth/login', {
      body: { email: 'platform@sift.example', password: SAMPLE_PASSWORD },
    });
    await api(base, '/v1/admin/access-rules', {
      token: admin.body.access_token as string,
      body: { list: 'allow', subject_type: 'ip', value: ALLOWED_IP, reason: 'auth benchmark' },
    });
    const owner = await api(base, '/v1/auth/login', {
      body: { email: 'huda.almansouri@sift-demo.example', password: SAMPLE_PASSWORD },
    });
    const ownerToken = owner.body.access_token as string;
    const createKey = async (name: string) =>
      (
        await api(base, '/v1/keys', {
          token: ownerToken,
          body: {
            name,
            scopes: ['content:read'],
            rate_limit: { limit: 100_000, window_seconds: 1 },
          },
        })
      ).body.secret as string;
    const cachedKey = await createKey('bench cached');
    const started = performance.now();
    const uncached: string[] = [];
    for (let i = 0; i < UNCACHED_KEYS; i++) uncached.push(await createKey(`bench ${i}`));
    console.log(`created ${UNCACHED_KEYS} keys in ${Math.round(performance.now() - started)} ms`);

    // Sessions of every sample user, one request each in the uncached-session row.
    const sessionTokens: string[] = [];
    for (const person of SAMPLE_USERS) {
      for (let i = 0; i < SESSIONS_PER_USER; i++) {
        const signedIn = await api(base, '/v1/auth/login', {
          body: { email: person.email, password: SAMPLE_PASSWORD },
        });
        sessionTokens.push(signedIn.body.access_token as string);
      }
    }
    console.log(`signed in ${sessionTokens.length} sessions`);

    // The allow list must hold for the baseline, and the limiter must run for the last row.
    const limited = await api(base, '/v1/whoami', { token: cachedKey, ip: LIMITED_IP });
    const allowed = await api(base, '/v1/whoami', { token: cachedKey });
    if (!limited.response.headers.get('ratelimit') || allowed.response.headers.get('ratelimit')) {
      throw new Error('the allow list or the limiter did not apply as the benchmark assumes');
    }

    const url = `${base}/v1/whoami`;
    const allowIp = { 'CF-Connecting-IP': ALLOWED_IP };
    let next = 0;
    let nextSession = 0;
    const rows = [
      await load('no auth, no limiter (baseline)', url, allowIp),
      await load('JWT access token', url, { ...allowIp, Authorization: `Bearer ${ownerToken}` }),
      await load('JWT, session not cached (new session each request)', url, allowIp, {
        perRequest: () => sessionTokens[nextSession++ % sessionTokens.length]!,
        amount: sessionTokens.length,
      }),
      await load('API key, cached', url, { ...allowIp, Authorization: `Bearer ${cachedKey}` }),
      await load('API key, uncached (new key each request)', url, allowIp, {
        perRequest: () => uncached[next++ % uncached.length]!,
        amount: uncached.length,
      }),
      await load('API key, cached + rate limiter', url, {
        'CF-Connecting-IP': LIMITED_IP,
        Authorization: `Bearer ${cachedKey}`,
      }),
    ];

    // Revocation: from the revoke's response to the first refusal of the key.
    const victim = await api(base, '/v1/keys', {
      token: ownerToken,
      body: { name: 'bench revoked', scopes: ['content:read'] },
    });
    const victimSecret = victim.body.secret as string;
    await api(base, '/v1/whoami', { token: victimSecret });
    await api(base, `/v1/keys/${victim.body.id as string}`, {
      method: 'DELETE',
      token: ownerToken,
    });
    const { ms: revocationMs, polls } = await untilRefused(url, victimSecret, 90_000);

    // Sign-out: from the logout's response to the first refusal of its access token.
    const leaving = await api(base, '/v1/auth/login', {
      body: { email: 'huda.almansouri@sift-demo.example', password: SAMPLE_PASSWORD },
    });
    const leavingToken = leaving.body.access_token as string;
    await api(base, '/v1/whoami', { token: leavingToken });
    await fetch(`${base}/v1/auth/logout`, {
      method: 'POST',
      headers: { ...allowIp, Authorization: `Bearer ${leavingToken}` },
    });
    const { ms: signOutMs, polls: sessionPolls } = await untilRefused(url, leavingToken, 30_000);

    const baseline = rows[0]!;
    const lines = [
      '# Auth and rate-limit overhead',
      '',
      `\`npm run bench:auth\` on ${new Date().toISOString().slice(0, 10)}: \`GET /v1/whoami\` under \`wrangler dev\`, autocannon with ${CONNECTIONS} connections for ${SECONDS} s per row (the uncached row: ${UNCACHED_KEYS} requests, one per key), load generator and Worker on the same 2 cores.`,
      '',
      '| scenario | req/s | p50 ms | p99 ms | req/s vs baseline | p50 vs baseline | p99 vs baseline | requests | errors |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...rows.map(
        (r) =>
          `| ${r.name} | ${Math.round(r.rps)} | ${r.p50} | ${r.p99} | ${(r.rps / baseline.rps).toFixed(2)} | ${(r.p50 / Math.max(baseline.p50, 1)).toFixed(2)} | ${(r.p99 / Math.max(baseline.p99, 1)).toFixed(2)} | ${r.requests} | ${r.errors} |`,
      ),
      '',
      `Revocation: a revoked key was refused ${revocationMs.toFixed(1)} ms after the revoke answered (${polls} poll${polls === 1 ? '' : 's'}; same isolate). Other isolates: at most 10 s (isolate cache) + 30 s (KV edge cache) + KV propagation.`,
      '',
      `Sign-out: a signed-out session's access token was refused ${signOutMs.toFixed(1)} ms after the logout answered (${sessionPolls} poll${sessionPolls === 1 ? '' : 's'}; same isolate). Other isolates: at most 5 s (their copy of the session's state).`,
      '',
    ];
    const report = lines.join('\n');
    await writeFile(join(ROOT, 'bench/results/auth.md'), report);
    console.log(report);
    if (rows.some((r) => r.errors > 0)) {
      throw new Error('some benchmark requests failed; the figures are not comparable');
    }
  } finally {
    dev.kill('SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    if (dev.exitCode === null) dev.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
