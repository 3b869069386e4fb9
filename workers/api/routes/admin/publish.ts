import type { Context } from 'hono';
import { publishAccessRules } from '../../../../shared/access/rules.ts';
import type { AppBindings } from '../../app.ts';

/**
 * After a change to the rules: rewrites the KV snapshot and this isolate's copy. The change is
 * already durable in Postgres, so a failure here is logged, not answered: the other isolates
 * then pick the change up when their copy or the KV snapshot expires.
 */
export async function publishRules(c: Context<AppBindings>): Promise<void> {
  try {
    await publishAccessRules(c.var.services);
  } catch (error) {
    c.var.logger.error('access rules not published', {
      reason: error instanceof Error ? error.message : String(error),
    });
  }
}
