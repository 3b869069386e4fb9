import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import type { Schema } from 'hono';
import { AppError } from '../../../../shared/errors.ts';
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

export const ReadySchema = z
  .object({
    status: z.literal('ready'),
    checks: z.record(z.enum(DEPENDENCIES), CheckSchema),
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
    'Checks Postgres, Redis, Vector and KV in parallel and reports each one with its latency. ' +
    'Answers 503, naming what is down, when any of them fails or takes longer than 2 s.',
  responses: {
    200: {
      description: 'Every dependency answered.',
      content: { 'application/json': { schema: ReadySchema } },
    },
    ...problemResponses('SERVICE_UNAVAILABLE', ...COMMON_PROBLEMS),
  },
});

async function check(probe: () => Promise<unknown>): Promise<z.infer<typeof CheckSchema>> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)),
          CHECK_TIMEOUT_MS,
        );
      }),
    ]);
    return { status: 'up', latency_ms: elapsed(started) };
  } catch (error) {
    return { status: 'down', latency_ms: elapsed(started), error: describe(error) };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

const elapsed = (started: number) => Math.round((performance.now() - started) * 100) / 100;

/** A dependency's failure in a line, without the secrets a URL or token could carry. */
function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\/\/[^@/\s]*@/g, '//').slice(0, 200);
}

export function registerSystemReady<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const services = c.var.services;
    const results = await Promise.all(DEPENDENCIES.map((d) => check(() => PROBES[d](services))));
    const checks = Object.fromEntries(DEPENDENCIES.map((d, i) => [d, results[i]!])) as Record<
      Dependency,
      z.infer<typeof CheckSchema>
    >;
    const down = DEPENDENCIES.filter((d) => checks[d].status === 'down');
    if (down.length > 0) {
      throw new AppError({
        code: 'SERVICE_UNAVAILABLE',
        message: `Not ready: ${down.join(', ')} ${down.length === 1 ? 'is' : 'are'} down.`,
        extensions: { checks, down },
        headers: { 'Retry-After': '5' },
      });
    }
    return c.json(ReadySchema.parse({ status: 'ready', checks }), 200);
  });
}
