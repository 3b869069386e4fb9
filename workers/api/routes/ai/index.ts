import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { registerAiSettingsGet } from './settings-get.ts';
import { registerAiSettingsPut } from './settings-put.ts';
import { registerAiUsage } from './usage.ts';

/** The organisation's AI settings (budget, content enrichment) and its usage and costs. */
export function registerAi<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return registerAiUsage(registerAiSettingsPut(registerAiSettingsGet(app)));
}
