import { printable } from '../text/storable.ts';

/** What Postgres said about a refused statement: its SQLSTATE and, when given, more. */
export type PgError = {
  code: string;
  message: string;
  constraint?: string;
  /** Set by the content writer on the translation whose statement failed. */
  locale?: string;
};

/**
 * The Postgres error inside `error`, looking through the wrappers drizzle, the Neon driver and
 * the callers add (`cause` and `sourceError` chains, at most 8 deep), or null when Postgres
 * never answered (a network failure, a timeout, a closed circuit): the two drivers (`neon()`
 * over HTTP, `Pool` over WebSocket) both carry the SQLSTATE as `code`.
 */
export function pgError(error: unknown): PgError | null {
  let locale: string | undefined;
  const seen: unknown[] = [];
  for (let e = error; typeof e === 'object' && e !== null && seen.length < 8; ) {
    if (seen.includes(e)) break;
    seen.push(e);
    const link = e as Record<string, unknown>;
    if (typeof link.locale === 'string') locale ??= link.locale;
    if (typeof link.code === 'string' && /^[0-9A-Z]{5}$/.test(link.code)) {
      return {
        code: link.code,
        message: typeof link.message === 'string' ? link.message : '',
        ...(typeof link.constraint === 'string' ? { constraint: link.constraint } : {}),
        ...(locale ? { locale } : {}),
      };
    }
    e = link.cause ?? link.sourceError;
  }
  return null;
}

/** The SQLSTATE of a Postgres error inside `error` (see {@link pgError}), or undefined. */
export const sqlState = (error: unknown): string | undefined => pgError(error)?.code;

/**
 * SQLSTATE classes of statements that will fail the same way however often they are retried:
 * the data itself is refused (`22` data exception: a NUL byte, an unpaired surrogate escape, a
 * number out of range; `23` integrity constraint; `54` program limit exceeded, e.g. a `tsvector`
 * over 1 MB; `21` cardinality; `0A` feature not supported). Everything else — connection
 * failures (`08`), resources (`53`), operator intervention (`57`), system errors (`58`, `XX`),
 * lock timeouts (`55`), serialization failures and deadlocks (`40`), and `42` (an undefined
 * table or column: a deploy that ran before its migration, fixed by migrating, then retrying) —
 * may succeed later.
 */
const PERMANENT_CLASSES = new Set(['21', '22', '23', '54', '0A']);

/**
 * The Postgres refusal in `error` when retrying the same statement can never succeed (see
 * {@link PERMANENT_CLASSES}), else null: a write that gets one must end as a failure with this
 * reason, not be retried until its retries run out.
 */
export function permanentPgError(error: unknown): PgError | null {
  const pg = pgError(error);
  return pg && PERMANENT_CLASSES.has(pg.code.slice(0, 2)) ? pg : null;
}

/** A refusal as one line for a problem's `detail` or a dead letter's `reason`: always storable. */
export function describePgError(pg: PgError): string {
  const message = printable(pg.message).slice(0, 300) || 'no message';
  return `${message} (SQLSTATE ${pg.code})`;
}
