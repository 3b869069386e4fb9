import type { Hono } from 'hono';
import {
  callerIp,
  decodeSegment,
  limitBody,
  type QStashContext,
  rawTail,
  readJson,
} from '../context.ts';
import { badRequest } from '../errors.ts';
import { batchHeaders } from '../publish-options.ts';
import { commitPublish, type PreparedPublish, preparePublish } from '../publishing.ts';

/** A batch may carry many messages; each is still held to the max message size. */
const BATCH_FACTOR = 16;

export function registerPublish(app: Hono, ctx: QStashContext) {
  app.post('/v2/publish/*', limitBody(ctx.maxMessageSize), async (c) => {
    const prepared = preparePublish(ctx, {
      destination: rawTail(c, '/v2/publish/'),
      headers: c.req.raw.headers,
      body: Buffer.from(await c.req.arrayBuffer()),
      callerIP: callerIp(c),
    });
    const result = commitPublish(ctx, prepared);
    return c.json(result.body, result.status);
  });

  // `/v2/enqueue/{queue}/{destination}`: a publish that waits its turn in a named queue.
  app.post('/v2/enqueue/*', limitBody(ctx.maxMessageSize), async (c) => {
    const tail = rawTail(c, '/v2/enqueue/');
    const slash = tail.indexOf('/');
    if (slash <= 0)
      throw badRequest('invalid enqueue path: want /v2/enqueue/{queueName}/{destination}');
    const prepared = preparePublish(ctx, {
      queueName: decodeSegment(tail.slice(0, slash)),
      destination: tail.slice(slash + 1),
      headers: c.req.raw.headers,
      body: Buffer.from(await c.req.arrayBuffer()),
      callerIP: callerIp(c),
    });
    const result = commitPublish(ctx, prepared);
    return c.json(result.body, result.status);
  });

  // `[{destination, headers, body, queue}]`: every entry is validated before any is published,
  // so a bad entry rejects the batch without half of it being sent.
  app.post('/v2/batch', limitBody(ctx.maxMessageSize * BATCH_FACTOR), async (c) => {
    const json = await readJson(c);
    if (!json.ok) throw badRequest('invalid request body: want a JSON array of messages');
    if (!Array.isArray(json.value))
      throw badRequest('invalid request body: want a JSON array of messages');
    const caller = callerIp(c);
    const prepared: PreparedPublish[] = json.value.map((entry: unknown, index: number) => {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
        throw badRequest(`invalid message at index ${index}: want an object`);
      }
      const { destination, headers, body, queue } = entry as Record<string, unknown>;
      if (typeof destination !== 'string' || destination === '') {
        throw badRequest(`invalid message at index ${index}: destination is required`);
      }
      if (body !== undefined && body !== null && typeof body !== 'string') {
        throw badRequest(`invalid message at index ${index}: body must be a string`);
      }
      if (queue !== undefined && queue !== null && typeof queue !== 'string') {
        throw badRequest(`invalid message at index ${index}: queue must be a string`);
      }
      return preparePublish(ctx, {
        destination,
        headers: batchHeaders(headers),
        body: Buffer.from(typeof body === 'string' ? body : ''),
        callerIP: caller,
        queueName: typeof queue === 'string' && queue !== '' ? queue : undefined,
      });
    });
    return c.json(prepared.map((entry) => commitPublish(ctx, entry).body));
  });
}
