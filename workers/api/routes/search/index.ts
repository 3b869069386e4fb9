import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { registerSearchClicks } from './clicks.ts';
import { registerSearchGet } from './get.ts';
import { registerSearchPost } from './post.ts';
import { registerSearchSettingsGet } from './settings-get.ts';
import { registerSearchSettingsPut } from './settings-put.ts';

/** Search (GET and POST), the clicks on its results, and its ranking settings. */
export function registerSearch<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return registerSearchSettingsPut(
    registerSearchSettingsGet(registerSearchClicks(registerSearchPost(registerSearchGet(app)))),
  );
}
