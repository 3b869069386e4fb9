import { createMiddleware } from 'hono/factory';
import { createServices } from '../../../shared/services.ts';
import type { AppBindings } from '../app.ts';

/** Builds the request's services (clients are created on first use) after the env is valid. */
export const services = () =>
  createMiddleware<AppBindings>(async (c, next) => {
    c.set(
      'services',
      createServices(c.var.env, c.var.logger, {
        waitUntil: (promise) => {
          // `app.request()` in unit tests has no execution context; awaiting is the safe fallback.
          try {
            c.executionCtx.waitUntil(promise);
          } catch {
            void promise;
          }
        },
        context: { requestId: c.var.requestId, trace: c.var.trace },
      }),
    );
    await next();
  });
