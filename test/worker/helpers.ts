import {
  createExecutionContext,
  createScheduledController,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { expect, vi } from 'vitest';
import { httpDatabase } from '../../shared/db/client.ts';
import { organizations } from '../../shared/db/schema/index.ts';
import { validateEnv } from '../../shared/env.ts';
import { type Problem, ProblemSchema } from '../../shared/errors.ts';
import { newId } from '../../shared/ids.ts';
import { createLogger } from '../../shared/logger.ts';
import { createServices } from '../../shared/services.ts';
import { handleScheduled } from '../../workers/cron/index.ts';
import worker from '../../workers/index.ts';
import { lastLog } from './log-buffer.ts';

export const BASE = 'http://sift.test';

/**
 * Resolves once nothing has logged for `quietMs` (at most `maxMs`): for a file's `afterAll`
 * when its writes set queue consumers going (persist, then fan-out, then audit). A consumer
 * still logging when the file ends fails the run (`EnvironmentTeardownError`). `quietMs` is
 * well above the longest batch timeout of the tests' consumers (1 s, `vitest.config.ts`), so a
 * batch still being gathered is waited for too.
 */
export async function untilQuiet({ quietMs = 3_000, maxMs = 30_000 } = {}): Promise<void> {
  const deadline = Date.now() + maxMs;
  while (Date.now() - lastLog() < quietMs && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Calls the Worker's `fetch` as the runtime does. `overrides` replaces settings or bindings for
 * this call only (a missing setting, a dependency pointed at a dead port), which is how the
 * misconfiguration and outage tests change the world without touching the shared one.
 *
 * Each call comes from a random documentation-range IP (`CF-Connecting-IP`) unless the test
 * sets one, so per-IP rate limits never couple unrelated tests.
 */
export async function call(
  path: string,
  init: RequestInit = {},
  overrides: Partial<Record<keyof Env, unknown>> = {},
): Promise<Response> {
  const ctx = createExecutionContext();
  const request = new Request(`${BASE}${path}`, init);
  if (!request.headers.has('CF-Connecting-IP')) {
    request.headers.set('CF-Connecting-IP', randomIp());
  }
  const response = await worker.fetch(request, { ...env, ...overrides } as Env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/**
 * {@link call}, timed as a client sees it: until the response is there, not including the work
 * the Worker keeps going after it (`waitUntil`: audit sends, counters), which is awaited after.
 */
export async function callTimed(
  path: string,
  init: RequestInit = {},
): Promise<{ response: Response; ms: number }> {
  const ctx = createExecutionContext();
  const request = new Request(`${BASE}${path}`, init);
  if (!request.headers.has('CF-Connecting-IP')) {
    request.headers.set('CF-Connecting-IP', randomIp());
  }
  const started = performance.now();
  const response = await worker.fetch(request, env as Env, ctx);
  const ms = performance.now() - started;
  await waitOnExecutionContext(ctx);
  return { response, ms };
}

/** An address in 198.18.0.0/15 (benchmarking range), different on every call. */
export function randomIp(): string {
  const n = Math.floor(Math.random() * 2 ** 17);
  return `198.${18 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
}

/** Asserts a problem+json response and returns its parsed document. */
export async function expectProblem(response: Response, status: number): Promise<Problem> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  const problem = ProblemSchema.parse(await response.json());
  expect(problem.status).toBe(status);
  expect(problem.request_id).toBe(response.headers.get('x-request-id'));
  return problem;
}

/** Collects the JSON log lines written while it is active. */
export function captureLogs() {
  const lines: Record<string, unknown>[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
    try {
      lines.push(JSON.parse(String(line)) as Record<string, unknown>);
    } catch {
      lines.push({ raw: String(line) });
    }
  });
  return {
    lines,
    restore: () => spy.mockRestore(),
  };
}

/** A URL on which nothing listens (a dependency that is down). */
export const DEAD_URL = 'http://127.0.0.1:9';

/** A connection string for a Postgres that is down (its Neon proxy is the dead port). */
export const DEAD_DATABASE_URL = 'postgresql://postgres:postgres@127.0.0.1:9/postgres';

/** The suite's database, over the same Neon HTTP driver the Worker uses. */
export function testDb() {
  const validated = validateEnv(env);
  if (!validated.ok) throw new Error(`test env invalid: ${JSON.stringify(validated.problems)}`);
  return httpDatabase(validated.env);
}

/**
 * The Worker's services (Postgres, Redis, Vector, queues...) over the test env, as a request
 * or a consumer gets them, with a logger that only prints errors.
 */
export function testServices(overrides: Partial<Env> = {}) {
  const validated = validateEnv({ ...env, ...overrides });
  if (!validated.ok) throw new Error(`test env invalid: ${JSON.stringify(validated.problems)}`);
  return createServices(validated.env, createLogger({ level: 'error' }), {
    waitUntil: () => {},
    context: {},
  });
}

/**
 * Runs the cron jobs of expression `cron` as the runtime would at `scheduledTime` (with settings
 * `overrides`); their outcomes by job name.
 */
export async function runCron(
  cron: string,
  scheduledTime = Date.now(),
  overrides: Partial<Record<keyof Env, unknown>> = {},
) {
  const ctx = createExecutionContext();
  const outcome = await handleScheduled(
    createScheduledController({ cron, scheduledTime }),
    { ...env, ...overrides } as Env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return outcome;
}

/** A fresh organisation for a test's rows (tests never share data). */
export async function createOrg(label: string): Promise<string> {
  const id = newId('organization');
  const suffix = id.slice(-8);
  await testDb()
    .insert(organizations)
    .values({ id, slug: `${label}-${suffix}`, name: `${label} test` });
  return id;
}

/** Polls `check` until it returns something truthy, failing after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
