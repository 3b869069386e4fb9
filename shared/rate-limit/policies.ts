import { formatCidr, mask, parseIp } from '../access/ip.ts';
import type { Principal } from '../auth/permissions.ts';
import type { AppEnv } from '../env.ts';
import type { RatePolicy } from './gcra.ts';

/**
 * Route classes, from the strictest: `auth` (sign-up, login, refresh: what credential stuffing
 * aims at), `admin` (platform administration), `write` (anything that changes state), `search`
 * (the expensive read), `ask` (`POST /v1/ask`: retrieval and a model's answer, the most expensive
 * call of all), `recommend` (neighbours and recommendations, as expensive), `read`, and
 * `events` (`POST /v1/events`: engagement from readers'
 * browsers, many per page, counted apart so that recording them never eats the write budget) and
 * `inbound` (`POST /webhooks/inbound/{source_id}`, upstream systems pushing content in), and
 * `evaluate` (`POST /v1/flags/evaluate` and OFREP's `/ofrep/v1/…`: feature-flag evaluation, the
 * hottest call of all and the cheapest, a memory read).
 */
export const ROUTE_CLASSES = [
  'auth',
  'admin',
  'search',
  'ask',
  'recommend',
  'write',
  'read',
  'events',
  'evaluate',
  'inbound',
] as const;
export type RouteClass = (typeof ROUTE_CLASSES)[number];

/** Who a request is counted against: its API key, else its user, else its IP. */
export const LIMITED_KINDS = ['key', 'user', 'ip'] as const;
export type LimitedKind = (typeof LIMITED_KINDS)[number];

const perMinute = (limit: number, burst = limit): RatePolicy => ({
  limit,
  periodSeconds: 60,
  burst,
});

/**
 * The default limits (the README prints this table). All are per minute; `burst` is how many may
 * arrive at once, and equals the limit unless stated, so a quiet client can spend a minute's
 * quota in one go and then continues at the sustained rate (limit / 60 per second).
 *
 * - `auth`: 10 per IP (the anonymous case: login, sign-up, refresh), 30 per user or key.
 * - `admin`: 120 per super admin, burst 60; 10 per IP or key (neither can hold `admin`).
 * - `search`: 100 per IP with bursts of 150, 300 per user, 1000 per API key.
 * - `ask`: 20 per IP with bursts of 10, 60 per user with bursts of 20, 120 per API key with bursts
 *   of 40 (each question may cost a model call: a burst must not spend a day's AI budget).
 * - `recommend`: 50 per IP with bursts of 75, 300 per user, 500 per API key (seed 001 §2.2).
 * - `read`: 300 per IP, 600 per user, 1000 per API key.
 * - `write`: 60 per IP, 120 per user, 300 per API key.
 * - `inbound`: 1200 per IP and source with bursts of 600 (an upstream's bulk import arrives in
 *   bursts; a flood at one source from one address is cut off before any signature is checked).
 * - `events`: 600 per IP with bursts of 300 (an office behind one address, each reader's page
 *   sending a batch every few seconds), 300 per user, 3000 per API key. A publishable key
 *   (`pk_…`, shipped in a web page and so shared by every reader of a site) is counted per IP,
 *   never as one key: one busy site must not throttle itself, nor one reader everyone.
 *
 * - `evaluate`: 1200 per IP with bursts of 600, 1200 per user, 6000 per API key (a server SDK
 *   evaluates on every request it serves; the answer comes from isolate memory).
 *
 * An API key with its own `rate_limit` uses that instead, for every class (burst = its limit).
 * In development every default is {@link DEVELOPMENT_RATE_FACTOR} times higher.
 */
export const RATE_LIMITS: Record<RouteClass, Record<LimitedKind, RatePolicy>> = {
  auth: { ip: perMinute(10), user: perMinute(30, 10), key: perMinute(30, 10) },
  admin: { ip: perMinute(10), user: perMinute(120, 60), key: perMinute(10) },
  search: { ip: perMinute(100, 150), user: perMinute(300), key: perMinute(1000) },
  ask: { ip: perMinute(20, 10), user: perMinute(60, 20), key: perMinute(120, 40) },
  recommend: { ip: perMinute(50, 75), user: perMinute(300), key: perMinute(500) },
  read: { ip: perMinute(300), user: perMinute(600), key: perMinute(1000) },
  write: { ip: perMinute(60), user: perMinute(120), key: perMinute(300) },
  events: { ip: perMinute(600, 300), user: perMinute(300), key: perMinute(3000) },
  evaluate: { ip: perMinute(1200, 600), user: perMinute(1200), key: perMinute(6000) },
  inbound: { ip: perMinute(1200, 600), user: perMinute(1200, 600), key: perMinute(1200, 600) },
};

/**
 * How much higher every default is in development (`ENVIRONMENT=development`, what `npm run dev`
 * runs with): a newcomer trying the API from 127.0.0.1 would otherwise meet the `auth` limit
 * (10 a minute per IP) within a few calls. `test` and `production` use {@link RATE_LIMITS} as
 * they are, so the tests exercise the production values.
 */
export const DEVELOPMENT_RATE_FACTOR = 10;

/** The default policy of a class and kind of identity in `environment` (see above). */
export function defaultPolicy(
  routeClass: RouteClass,
  kind: LimitedKind,
  environment: AppEnv['ENVIRONMENT'],
): RatePolicy {
  const policy = RATE_LIMITS[routeClass][kind];
  if (environment !== 'development') return policy;
  return {
    ...policy,
    limit: policy.limit * DEVELOPMENT_RATE_FACTOR,
    burst: policy.burst * DEVELOPMENT_RATE_FACTOR,
  };
}

/**
 * The class of a request: `/v1/auth/…` is auth, `/v1/admin/…` admin, `/v1/search…` search,
 * `/v1/ask` ask, `/v1/flags/evaluate` and `/ofrep/…` evaluate,
 * `/v1/events` events, `/v1/recommendations`, `/v1/content/{id}/similar`, `/v1/trending…` and
 * `/v1/trends…` recommend; otherwise GET,
 * HEAD and OPTIONS are reads and every other method a write.
 */
export function routeClass(method: string, path: string): RouteClass {
  if (path.startsWith('/webhooks/inbound/')) return 'inbound';
  if (path === '/v1/events') return 'events';
  if (path === '/v1/ask') return 'ask';
  if (path === '/v1/flags/evaluate' || path.startsWith('/ofrep/')) return 'evaluate';
  if (
    path === '/v1/recommendations' ||
    /^\/v1\/content\/[^/]+\/similar$/.test(path) ||
    path.startsWith('/v1/trending') ||
    path === '/v1/trends' ||
    path.startsWith('/v1/trends/')
  ) {
    return 'recommend';
  }
  if (path === '/v1/auth' || path.startsWith('/v1/auth/')) return 'auth';
  if (path === '/v1/admin' || path.startsWith('/v1/admin/')) return 'admin';
  if (path.startsWith('/v1/search')) return 'search';
  const verb = method.toUpperCase();
  return verb === 'GET' || verb === 'HEAD' || verb === 'OPTIONS' ? 'read' : 'write';
}

/** What one request is limited by: a class, a kind of identity, the identity, and the policy. */
export type LimitedKey = {
  routeClass: RouteClass;
  kind: LimitedKind;
  /** `key_…`, `usr_…`, an IP (an IPv6 client by its /64), or `unknown` without an IP. */
  id: string;
  policy: RatePolicy;
  /** The policy's name in the `RateLimit-Policy` and `RateLimit` headers (`search-ip`). */
  name: string;
  /** The `RATE_LIMITER` object's name: `${class}:${kind}:${id}`, one object per limited key. */
  objectName: string;
};

/**
 * The limited key of a request. An IPv6 client is counted by its /64, the block one subscriber
 * usually holds (counting single v6 addresses would let anyone rotate through 2⁶⁴ of them).
 */
export function limitedKey(input: {
  method: string;
  path: string;
  principal: Principal | undefined;
  ip: string | null;
  /** Picks the defaults ({@link defaultPolicy}); production's when not given. */
  environment?: AppEnv['ENVIRONMENT'];
}): LimitedKey {
  const environment = input.environment ?? 'production';
  const cls = routeClass(input.method, input.path);
  const { principal } = input;
  let kind: LimitedKind;
  let id: string;
  let policy: RatePolicy;
  const publishable =
    principal?.kind === 'api_key' &&
    principal.permissions.size === 1 &&
    principal.permissions.has('events:write');
  if (principal?.kind === 'api_key' && !publishable) {
    kind = 'key';
    id = principal.keyId;
    policy = principal.rateLimit
      ? {
          limit: principal.rateLimit.limit,
          periodSeconds: principal.rateLimit.windowSeconds,
          burst: principal.rateLimit.limit,
        }
      : defaultPolicy(cls, 'key', environment);
  } else if (principal?.kind === 'user') {
    kind = 'user';
    id = principal.userId;
    policy = defaultPolicy(cls, 'user', environment);
  } else {
    kind = 'ip';
    id = ipBucket(input.ip);
    policy = defaultPolicy(cls, 'ip', environment);
    // An inbound delivery is counted per address and source: one source's flood is its own.
    if (cls === 'inbound') id = `${id}:${input.path.slice('/webhooks/inbound/'.length, 200)}`;
  }
  return {
    routeClass: cls,
    kind,
    id,
    policy,
    name: `${cls}-${kind}`,
    objectName: `${cls}:${kind}:${id}`,
  };
}

/** The IP a client is counted by: the address, a v6 address's /64, or `unknown`. */
export function ipBucket(ip: string | null): string {
  const parsed = ip === null ? null : parseIp(ip);
  if (!parsed) return 'unknown';
  if (parsed.version === 4) return formatCidr({ ...parsed, prefix: 32 });
  return formatCidr({ version: 6, bytes: mask(parsed.bytes, 64), prefix: 64 });
}
