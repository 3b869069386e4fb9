import type { OpenAPIHono } from '@hono/zod-openapi';
import { createRoute, z } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';

export const HealthSchema = z
  .object({
    status: z.literal('ok'),
    time: z.iso.datetime().openapi({ description: 'Server time, RFC 3339 UTC.' }),
  })
  .openapi('Health');

export const route = createRoute({
  method: 'get',
  path: '/health',
  tags: ['system'],
  summary: 'Liveness',
  description:
    'Answers as long as the Worker runs, without touching any dependency. Use `/ready` to check them.',
  responses: {
    200: {
      description: 'The Worker is running.',
      content: { 'application/json': { schema: HealthSchema } },
    },
    ...problemResponses(...COMMON_PROBLEMS),
  },
});

export function registerSystemHealth<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, (c) =>
    c.json(HealthSchema.parse({ status: 'ok', time: new Date().toISOString() }), 200),
  );
}
