import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { registerTransition, transitionRoute } from './lifecycle.ts';

export const route = transitionRoute('start');

export function registerExperimentsStart<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return registerTransition(app, 'start', route);
}
