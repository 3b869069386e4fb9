import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { registerWebhookSourcesCreate } from './create.ts';
import { registerWebhookSourcesDelete } from './delete.ts';
import { registerWebhookSourcesDeliveriesList } from './deliveries-list.ts';
import { registerWebhookSourcesGet } from './get.ts';
import { registerWebhookSourcesList } from './list.ts';
import { registerWebhookSourcesPoll } from './poll.ts';
import { registerWebhookSourcesReceive } from './receive.ts';
import { registerWebhookSourcesRotateSecret } from './rotate-secret.ts';
import { registerWebhookSourcesUpdate } from './update.ts';

/**
 * Inbound webhook sources and feed sources: their management under `/v1` (a feed's poll on
 * demand included), and the public receiving endpoint.
 */
export function registerWebhookSources<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return registerWebhookSourcesReceive(
    registerWebhookSourcesPoll(
      registerWebhookSourcesDeliveriesList(
        registerWebhookSourcesRotateSecret(
          registerWebhookSourcesDelete(
            registerWebhookSourcesUpdate(
              registerWebhookSourcesGet(
                registerWebhookSourcesList(registerWebhookSourcesCreate(app)),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}
