import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { registerSystemHealth } from './health.ts';
import { registerSystemProblem } from './problem.ts';
import { registerSystemReady } from './ready.ts';

export function registerSystem<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return registerSystemProblem(registerSystemReady(registerSystemHealth(app)));
}
