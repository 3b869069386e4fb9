import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { registerExperimentsCreate } from './create.ts';
import { registerExperimentsDelete } from './delete.ts';
import { registerExperimentsGet } from './get.ts';
import { registerExperimentsList } from './list.ts';
import { registerExperimentsPause } from './pause.ts';
import { registerExperimentsPromote } from './promote.ts';
import { registerExperimentsResults } from './results.ts';
import { registerExperimentsStart } from './start.ts';
import { registerExperimentsStop } from './stop.ts';

/** Experiments on search ranking and the recommendation blend: create, run, read, promote. */
export function registerExperiments<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return registerExperimentsPromote(
    registerExperimentsResults(
      registerExperimentsStop(
        registerExperimentsPause(
          registerExperimentsStart(
            registerExperimentsDelete(
              registerExperimentsGet(registerExperimentsList(registerExperimentsCreate(app))),
            ),
          ),
        ),
      ),
    ),
  );
}
