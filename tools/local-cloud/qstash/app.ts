import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { methodNotAllowed } from 'hono/method-not-allowed';
import { bearer, sameToken } from '../http.ts';
import type { QStashContext } from './context.ts';
import { ApiError } from './errors.ts';
import { registerDlq } from './routes/dlq.ts';
import { registerKeys } from './routes/keys.ts';
import { registerLogs } from './routes/logs.ts';
import { registerMessages } from './routes/messages.ts';
import { registerPublish } from './routes/publish.ts';
import { registerQueues } from './routes/queues.ts';
import { registerSchedules } from './routes/schedules.ts';
import { registerTopics } from './routes/topics.ts';

/**
 * The QStash REST API. Every answer that is not a success is `{"error": "..."}` JSON, as QStash's
 * (OpenAPI `Error` schema); nothing a client sends can make a handler throw past `onError`.
 */
export function createApp(ctx: QStashContext): Hono {
  const app = new Hono();

  app.onError((error, c) => {
    if (error instanceof ApiError) return c.json({ error: error.message }, error.status);
    if (error instanceof HTTPException) {
      return c.json({ error: error.message || 'bad request' }, error.status);
    }
    console.error('[local-cloud qstash]', error);
    return c.json({ error: 'internal server error' }, 500);
  });
  app.notFound((c) => c.json({ error: 'not found' }, 404));
  // A known path with the wrong method: QStash answers 405 "Method Not Allowed"
  // (github.com/upstash/qstash-js/issues/51).
  app.use(
    methodNotAllowed({
      app,
      onMethodNotAllowed: (c, methods) =>
        c.text('Method Not Allowed', 405, { Allow: methods.join(', ') }),
    }),
  );

  // The token travels as a bearer header, or as `?qstash_token=` (OpenAPI `bearerAuthQuery`).
  app.use('/v2/*', async (c, next) => {
    const token =
      bearer(c.req.header('Authorization')) ??
      new URL(c.req.url).searchParams.get('qstash_token') ??
      undefined;
    if (!sameToken(token, ctx.token)) return c.json({ error: 'Unauthorized' }, 401);
    await next();
  });

  registerPublish(app, ctx);
  registerMessages(app, ctx);
  registerDlq(app, ctx);
  registerSchedules(app, ctx);
  registerQueues(app, ctx);
  registerTopics(app, ctx);
  registerKeys(app, ctx);
  registerLogs(app, ctx);
  return app;
}
