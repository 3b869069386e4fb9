import { createApp } from './api/index.ts';
import { handleQueue } from './consumers/index.ts';
import { handleScheduled } from './cron/index.ts';

export { ContentLedger } from '../durable-objects/content-ledger.ts';
export { RateLimiter } from '../durable-objects/rate-limiter.ts';
export { Realtime } from '../durable-objects/realtime.ts';
export { Sessions } from '../durable-objects/sessions.ts';

const app = createApp();

export default {
  fetch: app.fetch,
  async queue(batch, env, ctx) {
    await handleQueue(batch, env, ctx);
  },
  async scheduled(controller, env, ctx) {
    await handleScheduled(controller, env, ctx);
  },
} satisfies ExportedHandler<Env, unknown>;
