import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import type { Schema } from 'hono';
import { AppError } from '../../../../shared/errors.ts';
import type { Logger } from '../../../../shared/logger.ts';
import {
  DEPENDENCIES as BREAKER_DEPENDENCIES,
  breaker,
  breakerStates,
  CircuitOpenError,
} from '../../../../shared/resilience/circuit-breaker.ts';
import type { Services } from '../../../../shared/services.ts';
import type { AppBindings } from '../../app.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';

/** How long one dependency may take before it counts as down. */
const CHECK_TIMEOUT_MS = 2_000;

const DEPENDENCIES = ['postgres', 'redis', 'vector', 'kv'] as const;
type Dependency = (typeof DEPENDENCIES)[number];

const CheckSchema = z
  .object({
    status: z.enum(['up', 'down']),
    latency_ms: z.number().openapi({ description: 'Time the check took, in milliseconds.' }),
    error: z.string().optional().openapi({ description: 'Why it is down.' }),
  })
  .openapi('DependencyCheck');

const BreakerSchema = z
  .object({
    state: z.enum(['closed', 'open', 'half_open']).openapi({
      description:
        'closed: calls go through; open: calls fail at once without reaching the dependency; ' +
        'half_open: a probe is let through to decide.',
    }),
    error_rate: z.number().min(0).max(1).openapi({
      description: 'Failed share of the calls in the last minute (0..1).',
      example: 0.6,
    }),
    requests: z.number().int().min(0).openapi({ description: 'Calls in the last minute.' }),
    opened_at: z.string().nullable().openapi({
      description: 'When it last opened (RFC 3339), null while closed.',
      example: '2026-01-01T12:00:00.000Z',
    }),
    retry_at: z.string().nullable().openapi({
      description: 'When it lets (or let) a probe through (RFC 3339), null while closed.',
      example: '2026-01-01T12:00:30.000Z',
    }),
  })
  .openapi('CircuitBreaker', {
    description:
      "This isolate's circuit breaker for a dependency: it opens when at least half of at least " +
      '10 calls in a minute failed, stays open 30 s, then lets one probe through at a time.',
  });

export const ReadySchema = z
  .object({
    status: z.literal('ready'),
    checks: z.record(z.enum(DEPENDENCIES), CheckSchema),
    breakers: z.record(z.enum(BREAKER_DEPENDENCIES), BreakerSchema).openapi({
      description:
        'Circuit breaker per dependency, as this isolate sees it (the 503 problem carries it too).',
    }),
  })
  .openapi('Ready');

const PROBES: Record<Dependency, (services: Services) => Promise<unknown>> = {
  postgres: (s) => s.db.execute(sql`select 1`),
  redis: (s) => s.redis.ping(),
  vector: (s) => s.vector.info(),
  kv: (s) => s.kv.get('ready-probe'),
};

export const route = createRoute({
  method: 'get',
  path: '/ready',
  tags: ['system'],
  summary: 'Readiness',
  description:
    'Checks Postgres, Redis, Vector and KV in parallel and reports each one with its latency, ' +
    'and the circuit breaker of every dependency. Each check runs through its breaker: a failed ' +
    'check counts, and a dependency whose breaker is open is reported down without being called. ' +
    'Answers 503, naming what is down, when any of them fails or takes longer than 2 s.',
  responses: {
    200: {
      description: 'Every dependency answered.',
      content: { 'application/json': { schema: ReadySchema } },
    },
    ...problemResponses('SERVICE_UNAVAILABLE', ...COMMON_PROBLEMS),
  },
});

async function check(
  dependency: Dependency,
  probe: () => Promise<unknown>,
  logger: Logger,
): Promise<z.infer<typeof CheckSchema>> {
  const started = performance.now();
  try {
    await breaker(dependency, logger).run(() => withTimeout(probe, CHECK_TIMEOUT_MS));
    return { status: 'up', latency_ms: elapsed(started) };
  } catch (error) {
    return { status: 'down', latency_ms: elapsed(started), error: describe(error) };
  }
}

async function withTimeout(probe: () => Promise<unknown>, ms: number): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

const elapsed = (started: number) => Math.round((performance.now() - started) * 100) / 100;

/** A dependency's failure in a line, without the secrets a URL or token could carry. */
function describe(error: unknown): string {
  if (error instanceof CircuitOpenError) {
    return error.state === 'open'
      ? `circuit open until ${error.retryAt.toISOString()}`
      : 'circuit half-open, probe in progress';
  }
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\/\/[^@/\s]*@/g, '//').slice(0, 200);
}

export function registerSystemReady<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { services, logger } = c.var;
    const results = await Promise.all(
      DEPENDENCIES.map((d) => check(d, () => PROBES[d](services), logger)),
    );
    const checks = Object.fromEntries(DEPENDENCIES.map((d, i) => [d, results[i]!])) as Record<
      Dependency,
      z.infer<typeof CheckSchema>
    >;
    const down = DEPENDENCIES.filter((d) => checks[d].status === 'down');
    const breakers = breakerStates();
    if (down.length > 0) {
      throw new AppError({
        code: 'SERVICE_UNAVAILABLE',
        message: `Not ready: ${down.join(', ')} ${down.length === 1 ? 'is' : 'are'} down.`,
        extensions: { checks, down, breakers },
        headers: { 'Retry-After': '5' },
      });
    }
    return c.json(ReadySchema.parse({ status: 'ready', checks, breakers }), 200);
  });
}
