import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { registerWebhookEndpointsCreate } from './create.ts';
import { registerWebhookEndpointsDelete } from './delete.ts';
import { registerWebhookDeliver } from './deliver.ts';
import { registerWebhookDeliveriesGet } from './deliveries-get.ts';
import { registerWebhookDeliveriesList } from './deliveries-list.ts';
import { registerWebhookEndpointsDisable } from './disable.ts';
import { registerWebhookEndpointsEnable } from './enable.ts';
import { registerWebhookEndpointsGet } from './get.ts';
import { registerWebhookEndpointsList } from './list.ts';
import { registerWebhookEndpointsRecover } from './recover.ts';
import { registerWebhookDeliveriesReplay } from './replay.ts';
import { registerWebhookEndpointsRotateSecret } from './rotate-secret.ts';
import { registerWebhookEndpointsTest } from './test.ts';
import { registerWebhookEndpointsUpdate } from './update.ts';

/** Outbound webhooks: endpoints, their deliveries, and QStash's callback that makes attempts. */
export function registerWebhooks<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return registerWebhookDeliver(
    registerWebhookEndpointsRecover(
      registerWebhookDeliveriesReplay(
        registerWebhookDeliveriesGet(
          registerWebhookDeliveriesList(
            registerWebhookEndpointsTest(
              registerWebhookEndpointsRotateSecret(
                registerWebhookEndpointsEnable(
                  registerWebhookEndpointsDisable(
                    registerWebhookEndpointsDelete(
                      registerWebhookEndpointsUpdate(
                        registerWebhookEndpointsGet(
                          registerWebhookEndpointsList(registerWebhookEndpointsCreate(app)),
                        ),
                      ),
                    ),
                  ),
                ),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}
