import type { Hono } from 'hono';
import type { QStashContext } from '../context.ts';
import { randomId } from '../ids.ts';

/**
 * `GET /v2/keys` answers `{current, next}`; it is also what the SDK's `QSTASH_DEV` mode probes to
 * decide a dev server is already running. `POST /v2/keys/rotate` makes the next key current and
 * generates a new next key (OpenAPI, Rotate Signing Keys).
 */
export function registerKeys(app: Hono, ctx: QStashContext) {
  app.get('/v2/keys', (c) => c.json({ current: ctx.keys.current, next: ctx.keys.next }));

  app.post('/v2/keys/rotate', (c) => {
    ctx.keys.current = ctx.keys.next;
    ctx.keys.next = randomId('sig_');
    return c.json({ current: ctx.keys.current, next: ctx.keys.next });
  });
}
