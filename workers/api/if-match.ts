import { z } from '@hono/zod-openapi';
import { AppError } from '../../shared/errors.ts';

/**
 * Conditional writes with `If-Match` (RFC 9110 §13.1.1) of flags, synonym sets, the search
 * settings and documents. Each route says in its own words what the header guards; the matching
 * and the `412` are the same everywhere. Content items
 * follow their own rule (a bare version number matches too, and their `412` carries
 * `current_version`: `ifMatchHolds` in `shared/content/view.ts`), so only the header's schema is
 * shared with them.
 */

/**
 * The request headers of a conditional write: an optional `if-match`, documented with the route's
 * own `description` and `example`; `maxLength`, when given, makes a longer header a `400`.
 */
export function ifMatchHeader(options: {
  description: string;
  example: string;
  maxLength?: number;
}) {
  const header = options.maxLength === undefined ? z.string() : z.string().max(options.maxLength);
  return z.object({
    'if-match': header.optional().openapi({
      param: { name: 'if-match', in: 'header' },
      description: options.description,
      example: options.example,
    }),
  });
}

/**
 * Whether an `If-Match` header lets a write to the resource go ahead: `*`, or a comma-separated
 * list naming the current state. `current` is its `ETag`, compared strongly (a weak `W/` tag
 * never matches), or, for a resource whose several tags name the same state, a test of one
 * listed tag. Anything else (another tag, an unquoted or malformed one, an empty header) does
 * not match.
 */
export function ifMatchAllows(
  header: string,
  current: string | ((tag: string) => boolean),
): boolean {
  const matches = typeof current === 'string' ? (tag: string) => tag === current : current;
  return header
    .split(',')
    .map((tag) => tag.trim())
    .some((tag) => tag === '*' || matches(tag));
}

/**
 * The `412` of a conditional write whose `If-Match` does not name the current `what` (`state of
 * the flag`, `search settings`…), carrying the current `ETag` as `current_etag`.
 */
export function preconditionFailed(currentEtag: string, what: string): AppError {
  return new AppError({
    code: 'PRECONDITION_FAILED',
    message: `If-Match does not name the current ${what} (${currentEtag}).`,
    extensions: { current_etag: currentEtag },
  });
}
