import { createMiddleware } from 'hono/factory';
import { validateEnv } from '../../../shared/env.ts';
import { AppError } from '../../../shared/errors.ts';
import type { AppBindings } from '../app.ts';

/**
 * Validates the deployment's settings and bindings before anything uses them. A misconfigured
 * deployment answers a 500 problem naming each missing or invalid setting (never its value),
 * instead of failing later with a stack trace.
 */
export const validatedEnv = () =>
  createMiddleware<AppBindings>(async (c, next) => {
    const result = validateEnv(c.env);
    if (!result.ok) {
      const names = result.problems.map((p) => `${p.setting} (${p.rule})`).join(', ');
      throw new AppError({
        code: 'MISCONFIGURED',
        message: `This deployment is misconfigured: ${names}.`,
        extensions: { settings: result.problems },
      });
    }
    c.set('env', result.env);
    await next();
  });
