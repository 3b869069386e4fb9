import type { Context, Hono } from 'hono';
import { GROUP_NAME, limitBody, type QStashContext, readJson } from '../context.ts';
import { badRequest, notFound } from '../errors.ts';
import type { StoredQueue } from '../types.ts';

// OpenAPI, Upsert a Queue: "Queue name is invalid. Queue names can only contain ...".
const INVALID_NAME =
  'Queue name is invalid. Queue names can only contain alphanumeric characters, hyphens, periods, and underscores.';

export function registerQueues(app: Hono, ctx: QStashContext) {
  const payload = (queue: StoredQueue) => ({ ...queue, lag: ctx.engine.queueLag(queue.name) });

  app.post('/v2/queues', limitBody(ctx.maxMessageSize), async (c) => {
    const json = await readJson(c);
    if (
      !json.ok ||
      typeof json.value !== 'object' ||
      json.value === null ||
      Array.isArray(json.value)
    ) {
      throw badRequest('invalid request body: want {"queueName", "parallelism", "paused"}');
    }
    const { queueName, parallelism = 1, paused = false } = json.value as Record<string, unknown>;
    if (typeof queueName !== 'string' || !GROUP_NAME.test(queueName))
      throw badRequest(INVALID_NAME);
    if (typeof parallelism !== 'number' || !Number.isInteger(parallelism) || parallelism < 1) {
      throw badRequest('parallelism must be an integer greater than 0');
    }
    if (typeof paused !== 'boolean') throw badRequest('paused must be a boolean');
    ctx.engine.upsertQueue(queueName, parallelism, paused);
    return c.body(null, 200);
  });

  app.get('/v2/queues', (c) => c.json([...ctx.engine.queues.values()].map(payload)));

  app.get('/v2/queues/:queueName', (c) => c.json(payload(find(ctx, c))));

  app.delete('/v2/queues/:queueName', (c) => {
    ctx.engine.deleteQueue(find(ctx, c).name);
    return c.body(null, 200);
  });

  for (const action of ['pause', 'resume'] as const) {
    app.post(`/v2/queues/:queueName/${action}`, (c) => {
      ctx.engine.setQueuePaused(find(ctx, c).name, action === 'pause');
      return c.body(null, 200);
    });
  }
}

function find(ctx: QStashContext, c: Context): StoredQueue {
  const name = c.req.param('queueName') ?? '';
  if (!GROUP_NAME.test(name)) throw badRequest(INVALID_NAME);
  const queue = ctx.engine.queues.get(name);
  if (!queue) throw notFound('queue not found');
  return queue;
}
