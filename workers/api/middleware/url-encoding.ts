import { createMiddleware } from 'hono/factory';
import { AppError, type FieldError } from '../../../shared/errors.ts';
import type { AppBindings } from '../app.ts';

/** At most this much of a bad name is echoed back. */
const SHOWN = 40;

/** Why `raw` (a path segment or a query name or value) is not percent-encoded UTF-8, if it is not. */
function encodingProblem(raw: string): string | undefined {
  if (!raw.includes('%')) return undefined;
  try {
    decodeURIComponent(raw);
    return undefined;
  } catch {
    const stray = raw.search(/%(?![0-9A-Fa-f]{2})/);
    return stray >= 0
      ? `has invalid percent-encoding: "%" at character ${stray + 1} is not followed by two hex digits`
      : 'has invalid percent-encoding: the encoded bytes are not UTF-8';
  }
}

const shown = (name: string) => (name.length > SHOWN ? `${name.slice(0, SHOWN)}…` : name);

/** A query name as the validation paths give it: decoded, or as sent when it cannot be. */
function decodedName(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/**
 * Refuses a URL whose path or query string is not valid percent-encoded UTF-8 (`%ZZ`, a cut
 * `%E0%A4%A`, the encoded surrogate `%ED%A0%80`) with a 400 naming where: `path`, or
 * `query.<name>` for a value. Hono would otherwise pass such text on undecoded, and a search
 * would look for `%E0%A4%A` literally. Runs for every route, before anything reads the URL.
 */
export const refuseMalformedUrl = () =>
  createMiddleware<AppBindings>(async (c, next) => {
    const url = new URL(c.req.url);
    const errors: FieldError[] = [];
    const pathProblem = url.pathname
      .split('/')
      .map(encodingProblem)
      .find((p) => p !== undefined);
    if (pathProblem) errors.push({ path: 'path', message: pathProblem, code: 'invalid_encoding' });
    for (const pair of url.search.slice(1).split('&')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      const name = (eq < 0 ? pair : pair.slice(0, eq)).replaceAll('+', ' ');
      const value = eq < 0 ? '' : pair.slice(eq + 1).replaceAll('+', ' ');
      const nameProblem = encodingProblem(name);
      if (nameProblem) {
        errors.push({
          path: 'query',
          message: `the parameter name "${shown(name)}" ${nameProblem}`,
          code: 'invalid_encoding',
        });
        continue;
      }
      const valueProblem = encodingProblem(value);
      if (valueProblem) {
        errors.push({
          path: `query.${decodedName(name)}`,
          message: valueProblem,
          code: 'invalid_encoding',
        });
      }
    }
    if (errors.length > 0) {
      throw new AppError({
        code: 'VALIDATION_FAILED',
        message:
          errors.length === 1
            ? `${errors[0]!.path}: ${errors[0]!.message}`
            : `${errors.length} parts of the URL are invalid; see errors`,
        errors,
      });
    }
    await next();
  });
