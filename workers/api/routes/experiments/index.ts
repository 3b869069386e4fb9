import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { registerExperimentsCreate } from './create.ts';
import { registerExperimentsLifecycle } from './lifecycle.ts';
import { registerExperimentsPromote } from './promote.ts';
import { registerExperimentsRead } from './read.ts';
import { registerExperimentsResults } from './results.ts';

/** Experiments on search ranking and the recommendation blend: create, run, read, promote. */
export function registerExperiments<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return registerExperimentsPromote(
    registerExperimentsResults(
      registerExperimentsLifecycle(registerExperimentsRead(registerExperimentsCreate(app))),
    ),
  );
}
