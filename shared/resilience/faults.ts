import { sqlState } from '../db/errors.ts';
import type { Dependency } from './circuit-breaker.ts';

/**
 * Which errors mean a dependency is unhealthy, as opposed to a healthy dependency answering "no"
 * to what it was asked. Only the first kind may count against a circuit breaker or become a
 * `503`: a query that a client's input made fail (a number beyond its column's range, a
 * constraint it breaks) is an answer, and one tenant's malformed requests must never open a
 * breaker that denies every tenant.
 *
 * The rule for every dependency: an error that carries the dependency's own verdict on the
 * request (a SQLSTATE, a Redis error reply, an HTTP 4xx) counts only when that verdict is itself
 * about availability (a connection exception, too many connections, a shutdown, an exceeded
 * quota, a 429 or 5xx); anything else — no answer at all (a refused connection, a timeout, a
 * body that is not the service's), an answer the service could not give — counts.
 */

/** SQLSTATE classes that are the database failing, not the query: see {@link isPostgresFault}. */
export const POSTGRES_FAULT_CLASSES: ReadonlySet<string> = new Set([
  '08', // connection exception
  '28', // invalid authorization (the deployment's credentials no longer work)
  '3D', // invalid catalog name (the database is gone)
  '53', // insufficient resources (too many connections, out of memory, disk full)
  '57', // operator intervention (shutdown, cannot connect now, statement timeout / cancel)
  '58', // system error (I/O)
  'F0', // configuration file error
  'XX', // internal error
]);

/**
 * Postgres is unhealthy: its SQLSTATE's class is one of {@link POSTGRES_FAULT_CLASSES}, or the
 * error has none (the connection was refused or lost, the HTTP endpoint answered 5xx or
 * nothing, a timeout) — unless it is a programming error of ours thrown before any query left
 * (a `TypeError`, `ReferenceError`, `RangeError` or `SyntaxError`, or drizzle's own
 * `DrizzleError`, with no driver error inside: the Neon driver wraps every transport failure in
 * a `NeonDbError`). Data exceptions (`22…`, a value out of range), integrity violations (`23…`),
 * syntax and undefined objects (`42…`) and the rest are answers from a healthy database.
 */
export function isPostgresFault(error: unknown): boolean {
  const state = sqlState(error);
  if (state !== undefined) return POSTGRES_FAULT_CLASSES.has(state.slice(0, 2));
  const links = chain(error);
  if (links.some((link) => (link as { name?: unknown }).name === 'NeonDbError')) return true;
  return !links.some(isProgrammingError);
}

function isProgrammingError(error: object): boolean {
  return (
    error instanceof TypeError ||
    error instanceof ReferenceError ||
    error instanceof RangeError ||
    error instanceof SyntaxError ||
    (error as { name?: unknown }).name === 'DrizzleError'
  );
}

/**
 * Upstash's error replies that are about the service, not the command: its quotas, a server
 * still loading or busy, a read-only replica, a failed-over cluster, a refused token (the
 * deployment cannot use Redis at all), and a gateway's own error pages.
 */
const UPSTASH_UNAVAILABLE =
  /\b(LOADING|BUSY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|READONLY|NOAUTH|WRONGPASS|NOPERM|Unauthorized|max (daily |monthly )?requests? limit|max concurrent|rate limit|timed? ?out|Service Unavailable|Internal Server Error|Bad Gateway|Gateway Timeout)\b/i;

/**
 * Upstash (Redis or Vector) is unhealthy: anything but an `UpstashError` (a network failure, a
 * body that is not Upstash's JSON, which the SDKs throw as `UpstashJSONParseError` or a
 * `SyntaxError`), or an `UpstashError` whose reply is about availability (see
 * `UPSTASH_UNAVAILABLE`). Other replies — `WRONGTYPE`, a syntax error, a namespace that does not
 * exist, a filter the index cannot parse — are answers.
 */
export function isUpstashFault(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  if (name !== 'UpstashError') return true;
  return UPSTASH_UNAVAILABLE.test(String((error as Error).message));
}

/**
 * Workers AI is unhealthy: a network failure or timeout, an answer that is not a batch of
 * embeddings (`WorkersAiError` with status 0), a 401/403 (the deployment's token does not
 * work), a 429 or a 5xx. Another 4xx is Workers AI refusing that input.
 */
export function isWorkersAiFault(error: unknown): boolean {
  const status = (error as { name?: unknown; status?: unknown } | null)?.status;
  if ((error as { name?: unknown } | null)?.name !== 'WorkersAiError') return true;
  if (typeof status !== 'number') return true;
  return status === 0 || status === 401 || status === 403 || status === 429 || status >= 500;
}

/**
 * QStash is unhealthy: a network failure, or an answer that is about availability (401/403: the
 * deployment's token does not work; 429: its quota; 5xx). Another 4xx is QStash refusing that
 * request (a destination it does not take, a delay beyond the plan's).
 */
export function isQStashFault(error: unknown): boolean {
  const e = error as { name?: unknown; status?: unknown } | null;
  if (typeof e?.name !== 'string' || !/^qstash/i.test(e.name) || typeof e.status !== 'number')
    return true;
  return e.status === 401 || e.status === 403 || e.status === 429 || e.status >= 500;
}

/**
 * KV or a queue binding is unhealthy, unless the runtime refused the request itself: a key or
 * value beyond KV's limits (`400`, `413`, `414`), a message beyond a queue's size limit, or an
 * argument of the wrong type (`TypeError`). Those are the request's fault.
 */
export function isBindingFault(error: unknown): boolean {
  if (error instanceof TypeError) return false;
  const message = String((error as Error | null)?.message ?? error);
  return !/\b(400|413|414)\b|exceeds? .*limit|too large/i.test(message);
}

/** The default classifier of each dependency's breaker (`breaker(dependency)`). */
export const FAULT_CLASSIFIERS: Record<Dependency, (error: unknown) => boolean> = {
  postgres: isPostgresFault,
  redis: isUpstashFault,
  vector: isUpstashFault,
  ai: isWorkersAiFault,
  llm: isWorkersAiFault,
  kv: isBindingFault,
  queue: isBindingFault,
  qstash: isQStashFault,
};

const faults = new WeakMap<object, Dependency>();

/**
 * Records that `error` is `dependency` failing (not the request's fault), so the API answers it
 * with a `503` naming the dependency, whichever route it escapes from. Non-objects are left
 * alone. Returns the error, for `throw markFault(error, 'postgres')`.
 */
export function markFault<E>(error: E, dependency: Dependency): E {
  if (typeof error === 'object' && error !== null) faults.set(error, dependency);
  return error;
}

/**
 * The dependency an error (or an error it wraps) was recorded as a fault of with
 * {@link markFault}, or, for an unrecorded Postgres driver error (a `NeonDbError`, or any error
 * with a SQLSTATE: only Postgres speaks SQLSTATE here), `postgres` when {@link isPostgresFault}
 * says so. Undefined: not a dependency fault (a bug, or the request's own fault).
 */
export function faultOf(error: unknown): Dependency | undefined {
  for (const link of chain(error)) {
    const marked = faults.get(link);
    if (marked) return marked;
  }
  const postgres =
    sqlState(error) !== undefined ||
    chain(error).some((link) => (link as { name?: unknown }).name === 'NeonDbError');
  return postgres && isPostgresFault(error) ? 'postgres' : undefined;
}

/** `error` and the errors it wraps (`cause`, `sourceError`), at most 8 deep (no cycles). */
function chain(error: unknown): object[] {
  const links: object[] = [];
  let link: unknown = error;
  while (typeof link === 'object' && link !== null && links.length < 8 && !links.includes(link)) {
    links.push(link);
    const next = link as { cause?: unknown; sourceError?: unknown };
    link = next.cause ?? next.sourceError;
  }
  return links;
}
