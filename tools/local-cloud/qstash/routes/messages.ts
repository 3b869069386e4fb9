import type { Hono } from 'hono';
import type { QStashContext } from '../context.ts';
import { notFound } from '../errors.ts';
import { buildFilter, multi } from '../filters.ts';
import { messagePayload } from '../payloads.ts';
import type { StoredMessage } from '../types.ts';

export function registerMessages(app: Hono, ctx: QStashContext) {
  // Only pending messages can be read: QStash drops a message once delivered (OpenAPI warning).
  app.get('/v2/messages/:messageId', (c) => {
    const message = ctx.engine.messages.get(c.req.param('messageId'));
    if (!message) throw notFound('message not found');
    return c.json(messagePayload(message));
  });

  // The SDK's `cancel(id)` reads a JSON `{cancelled}` answer; `delete(id)` ignores the body.
  app.delete('/v2/messages/:messageId', (c) => {
    if (!ctx.engine.cancel(c.req.param('messageId'))) throw notFound('message not found');
    return c.json({ cancelled: 1 });
  });

  // Bulk cancel: by `messageIds`, or by filters (none = all), at most `count` when given.
  app.delete('/v2/messages', (c) => {
    const query = new URL(c.req.url).searchParams;
    const ids = multi(query, 'messageIds');
    let cancelled = 0;
    if (ids) {
      for (const id of ids) if (ctx.engine.cancel(id)) cancelled++;
      return c.json({ cancelled });
    }
    const limit = Number.parseInt(query.get('count') ?? '', 10);
    const matches = buildFilter<StoredMessage>(query, (message) => message.createdAt);
    for (const message of [...ctx.engine.messages.values()]) {
      if (!Number.isNaN(limit) && limit > 0 && cancelled >= limit) break;
      if (matches(message) && ctx.engine.cancel(message.messageId)) cancelled++;
    }
    return c.json({ cancelled });
  });
}
