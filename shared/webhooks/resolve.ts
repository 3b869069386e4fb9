import { printable } from '../text/storable.ts';
import {
  addressRule,
  checkDestination,
  type DestinationRules,
  nameToResolve,
  parseAddress,
} from './destination.ts';

/**
 * The second half of the webhook SSRF rules: what a host NAME resolves to. `checkDestination`
 * checks the URL as written (IP literals, `localhost`, `*.internal`…); a public-looking name can
 * still answer `10.0.0.7` or `169.254.169.254`, so before an endpoint URL is accepted (creation,
 * update) and before every attempt, its name is resolved over DNS-over-HTTPS (the JSON API of
 * Cloudflare's and Google's resolvers: `GET <resolver>?name=…&type=A|AAAA`,
 * `accept: application/dns-json`; `WEBHOOKS_DNS_RESOLVER`, Cloudflare's by default) and refused
 * when ANY A or AAAA address it answers is loopback (unless allowed) or in a blocked range.
 * CNAME records in the answer are skipped; the addresses they lead to are in it too.
 *
 * A name with no address (NXDOMAIN, or no A or AAAA record) is refused. A resolver that cannot
 * answer (unreachable, not 200, SERVFAIL, nothing within {@link RESOLVE_TIMEOUT_MS}) leaves the
 * name unchecked: the caller answers 503 (the URL is not the client's fault) or, at delivery,
 * records a failed attempt that is retried on the schedule.
 *
 * Answers are cached per isolate for their TTL, at most {@link MAX_CACHE_SECONDS}, for at most
 * {@link MAX_CACHED_NAMES} names. The runtime resolves the name again when it connects, so a
 * name that answers a public address here and a private one a moment later (DNS rebinding) is
 * not caught by this check alone: the second layer is Cloudflare's, whose edge does not let a
 * Worker's `fetch` reach private, loopback or link-local addresses.
 */

export const DEFAULT_DNS_RESOLVER = 'https://cloudflare-dns.com/dns-query';
/** How long the resolver has to answer both questions. */
export const RESOLVE_TIMEOUT_MS = 3_000;
/** Longest an answer is kept, whatever its TTL. */
export const MAX_CACHE_SECONDS = 60;
/** Most names whose answers an isolate keeps (the oldest goes first). */
export const MAX_CACHED_NAMES = 1_000;

/** DNS record types of the answers (RFC 1035, RFC 3596). */
const A = 1;
const AAAA = 28;
/** DNS response codes (RFC 1035): NOERROR, NXDOMAIN. */
const NOERROR = 0;
const NXDOMAIN = 3;
const RCODE_NAMES: Record<number, string> = {
  1: 'FORMERR',
  2: 'SERVFAIL',
  4: 'NOTIMP',
  5: 'REFUSED',
};

/** What a name resolves to: its addresses (none for NXDOMAIN), or why the resolver did not say. */
export type Resolution =
  | { ok: true; addresses: string[] }
  | { ok: false; unavailable: true; reason: string };

/** The result of {@link checkDestinationResolved}: the literal checks' result, or why a name failed. */
export type ResolvedCheck =
  | { ok: true; url: URL }
  /** `unavailable`: the resolver could not answer, so the name is unchecked (not refused). */
  | { ok: false; reason: string; unavailable?: true };

/** A map of at most `maxEntries` keys whose entries expire; the oldest key goes first when full. */
export class AnswerCache<T> {
  readonly #entries = new Map<string, { value: T; expiresAt: number }>();

  readonly maxEntries: number;

  constructor(maxEntries: number) {
    this.maxEntries = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string, now = Date.now()): T | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Keeps `value` for `ttlMs` (nothing when it is 0 or less). */
  set(key: string, value: T, ttlMs: number, now = Date.now()): void {
    this.#entries.delete(key);
    if (ttlMs <= 0) return;
    while (this.#entries.size >= this.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, expiresAt: now + ttlMs });
  }

  clear(): void {
    this.#entries.clear();
  }
}

/** This isolate's answers, by resolver and name. */
export const resolverCache = new AnswerCache<string[]>(MAX_CACHED_NAMES);

type DnsJson = {
  Status?: unknown;
  Answer?: { name?: unknown; type?: unknown; TTL?: unknown; data?: unknown }[];
};

type Question =
  | { ok: true; addresses: string[]; ttl: number }
  | { ok: false; unavailable: true; reason: string };

/** One question (A or AAAA) to the resolver. */
async function ask(
  resolver: string,
  name: string,
  type: typeof A | typeof AAAA,
  signal: AbortSignal,
  fetcher: typeof fetch,
): Promise<Question> {
  const unavailable = (reason: string): Question => ({ ok: false, unavailable: true, reason });
  const url = new URL(resolver);
  url.searchParams.set('name', name);
  url.searchParams.set('type', type === A ? 'A' : 'AAAA');
  let response: Response;
  try {
    response = await fetcher(url, { headers: { accept: 'application/dns-json' }, signal });
  } catch (error) {
    return unavailable(
      signal.aborted
        ? `the DNS resolver did not answer within ${RESOLVE_TIMEOUT_MS / 1000} s`
        : printable(
            `the DNS resolver could not be reached (${error instanceof Error ? error.message : String(error)})`,
          ),
    );
  }
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => {});
    return unavailable(`the DNS resolver answered ${response.status}`);
  }
  let answer: DnsJson;
  try {
    answer = (await response.json()) as DnsJson;
  } catch {
    return unavailable(
      signal.aborted
        ? `the DNS resolver did not answer within ${RESOLVE_TIMEOUT_MS / 1000} s`
        : 'the DNS resolver did not answer JSON',
    );
  }
  if (answer.Status === NXDOMAIN) return { ok: true, addresses: [], ttl: 0 };
  if (answer.Status !== NOERROR) {
    const code = typeof answer.Status === 'number' ? answer.Status : NaN;
    return unavailable(
      `the DNS resolver answered ${RCODE_NAMES[code] ?? 'an error'} (status ${String(answer.Status)})`,
    );
  }
  const addresses: string[] = [];
  let ttl = MAX_CACHE_SECONDS;
  for (const record of Array.isArray(answer.Answer) ? answer.Answer : []) {
    // CNAME (5) and anything else that is not an address: the chain's addresses follow it.
    if (record.type !== A && record.type !== AAAA) continue;
    if (typeof record.data !== 'string' || parseAddress(record.data) === null)
      return unavailable('the DNS resolver answered an address that is not one');
    addresses.push(record.data);
    ttl = Math.min(ttl, typeof record.TTL === 'number' && record.TTL >= 0 ? record.TTL : 0);
  }
  return { ok: true, addresses, ttl };
}

/**
 * The A and AAAA addresses of `name`, asked of `resolver` (a DNS-over-HTTPS JSON endpoint)
 * together, from this isolate's cache when it holds them. An empty list: no address.
 */
export async function resolveName(
  name: string,
  resolver: string = DEFAULT_DNS_RESOLVER,
  fetcher: typeof fetch = fetch,
): Promise<Resolution> {
  const key = `${resolver} ${name}`;
  const cached = resolverCache.get(key);
  if (cached) return { ok: true, addresses: cached };
  const signal = AbortSignal.timeout(RESOLVE_TIMEOUT_MS);
  const answers = await Promise.all([
    ask(resolver, name, A, signal, fetcher),
    ask(resolver, name, AAAA, signal, fetcher),
  ]);
  const failed = answers.find((answer) => !answer.ok);
  if (failed) return failed;
  const addresses = answers.flatMap((answer) => (answer.ok ? answer.addresses : []));
  // Only addresses are kept: a name that has none is asked again next time.
  if (addresses.length > 0) {
    const ttl = Math.min(...answers.map((answer) => (answer.ok ? answer.ttl : 0)));
    resolverCache.set(key, addresses, ttl * 1000);
  }
  return { ok: true, addresses };
}

/**
 * Whether `raw` may receive webhooks under `rules`: {@link checkDestination}'s checks of the
 * URL as written, then, for a host name, every address it resolves to (through `resolver`).
 * IP literals and `localhost` never reach the resolver.
 */
export async function checkDestinationResolved(
  raw: string,
  rules: DestinationRules,
  resolver: string = DEFAULT_DNS_RESOLVER,
  fetcher: typeof fetch = fetch,
): Promise<ResolvedCheck> {
  const literal = checkDestination(raw, rules);
  if (!literal.ok) return literal;
  const name = nameToResolve(literal.url);
  if (name === null) return literal;
  const resolution = await resolveName(name, resolver, fetcher);
  if (!resolution.ok)
    return {
      ok: false,
      unavailable: true,
      reason: `could not be checked (${name}): ${resolution.reason}`,
    };
  if (resolution.addresses.length === 0)
    return { ok: false, reason: 'does not resolve to an address' };
  for (const address of resolution.addresses) {
    const rule = addressRule(parseAddress(address)!, rules);
    if (rule === 'loopback')
      return { ok: false, reason: `must not resolve to a loopback address (${address})` };
    if (rule)
      return { ok: false, reason: `must not resolve to a blocked address: ${rule} (${address})` };
  }
  return literal;
}
