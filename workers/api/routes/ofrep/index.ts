import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { registerOfrepEvaluateFlag } from './evaluate-flag.ts';
import { registerOfrepEvaluateFlags } from './evaluate-flags.ts';

/** The OpenFeature Remote Evaluation Protocol (OFREP): single and bulk evaluation. */
export function registerOfrep<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return registerOfrepEvaluateFlag(registerOfrepEvaluateFlags(app));
}
