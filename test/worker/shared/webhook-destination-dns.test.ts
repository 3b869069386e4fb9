import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import {
  AnswerCache,
  checkDestinationResolved,
  MAX_CACHED_NAMES,
  RESOLVE_TIMEOUT_MS,
  resolveName,
  resolverCache,
} from '../../../shared/webhooks/resolve.ts';
import type { DnsEntry } from '../../helpers/webhook-lab.ts';

/** The webhook lab's DNS-over-HTTPS resolver (`test/helpers/webhook-lab.ts`) and its zone. */
const LAB = inject('webhookLab');
const RESOLVER = `${LAB}/dns-query`;
/** Nothing listens on port 9 (discard): a resolver that is down. */
const DOWN = 'http://127.0.0.1:9/dns-query';

const production = { allowLoopback: false };
const development = { allowLoopback: true };

/** Sets what the lab's resolver answers for `name` (as `dnsAnswer` of the webhook fixtures). */
async function dnsAnswer(name: string, entry: DnsEntry): Promise<void> {
  const response = await fetch(`${LAB}/dns-zone/${name}`, {
    method: 'PUT',
    body: JSON.stringify(entry),
  });
  expect(response.status).toBe(204);
}

/** How many questions (A and AAAA each count) the lab's resolver got about `name`. */
async function queries(name: string): Promise<number> {
  return ((await (await fetch(`${LAB}/dns-zone/${name}`)).json()) as { queries: number }).queries;
}

/** A name of this test's own, so no other test's answer is cached for it. */
const fresh = (label: string) => `${label}-${crypto.randomUUID().slice(0, 8)}.sift.test`;

const check = (host: string, rules = production, resolver = RESOLVER) =>
  checkDestinationResolved(`https://${host}/hook`, rules, resolver);

afterEach(() => {
  vi.restoreAllMocks();
});

describe('outbound webhook destinations: what a host name resolves to', () => {
  it('accepts a name whose every A and AAAA address is public', async () => {
    expect(await check('public.sift.test')).toMatchObject({ ok: true });
    expect(await check('hooks.example.com')).toMatchObject({ ok: true });
    expect(await resolveName('public.sift.test', RESOLVER)).toEqual({
      ok: true,
      addresses: ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
    });
  });

  it.each([
    ['loopback.sift.test', 'must not resolve to a loopback address (127.0.0.1)'],
    ['loopback6.sift.test', 'must not resolve to a loopback address (::1)'],
    ['private10.sift.test', 'must not resolve to a blocked address: private (10.0.0.7)'],
    ['private172.sift.test', 'must not resolve to a blocked address: private (172.16.5.4)'],
    ['private192.sift.test', 'must not resolve to a blocked address: private (192.168.1.1)'],
    ['cgnat.sift.test', 'must not resolve to a blocked address: carrier-grade NAT (100.64.0.1)'],
    [
      'metadata.sift.test',
      'must not resolve to a blocked address: link-local (cloud metadata) (169.254.169.254)',
    ],
    ['ula.sift.test', 'must not resolve to a blocked address: unique local (private) (fd00::1)'],
    ['linklocal6.sift.test', 'must not resolve to a blocked address: link-local (fe80::1)'],
    ['mapped.sift.test', 'must not resolve to a blocked address: private (::ffff:10.0.0.1)'],
    // One public A and one private AAAA: any blocked address refuses the name.
    [
      'mixed.sift.test',
      'must not resolve to a blocked address: unique local (private) (fd12:3456::1)',
    ],
    // A CNAME is skipped; the address it leads to is checked.
    ['alias.sift.test', 'must not resolve to a blocked address: private (10.0.0.7)'],
  ])('refuses %s, naming the rule and the address', async (host, reason) => {
    expect(await check(host)).toEqual({ ok: false, reason });
  });

  it('allows a name that resolves to loopback only when development allows loopback', async () => {
    expect(await check('loopback.sift.test', development)).toMatchObject({ ok: true });
    expect(await check('loopback6.sift.test', development)).toMatchObject({ ok: true });
    for (const host of ['private10.sift.test', 'metadata.sift.test', 'mixed.sift.test'])
      expect((await check(host, development)).ok, host).toBe(false);
  });

  it('refuses a name with no address (NXDOMAIN, or no A or AAAA record)', async () => {
    for (const host of ['nxdomain.sift.test', 'empty.sift.test', 'nowhere.invalid-tld.test'])
      expect(await check(host), host).toEqual({
        ok: false,
        reason: 'does not resolve to an address',
      });
  });

  it('says a name could not be checked when the resolver fails: SERVFAIL, 5xx, down, silent', async () => {
    const servfail = await check('servfail.sift.test');
    expect(servfail).toEqual({
      ok: false,
      unavailable: true,
      reason:
        'could not be checked (servfail.sift.test): the DNS resolver answered SERVFAIL (status 2)',
    });
    const failing = fresh('http500');
    await dnsAnswer(failing, { http: 500 });
    expect(await check(failing)).toEqual({
      ok: false,
      unavailable: true,
      reason: `could not be checked (${failing}): the DNS resolver answered 500`,
    });
    const down = await check('public.sift.test', production, DOWN);
    expect(down).toMatchObject({ ok: false, unavailable: true });
    if (!down.ok) expect(down.reason).toContain('the DNS resolver could not be reached');
    const silent = fresh('hang');
    await dnsAnswer(silent, { hang: true });
    const started = Date.now();
    const hung = await check(silent);
    expect(Date.now() - started).toBeLessThan(RESOLVE_TIMEOUT_MS + 2_000);
    expect(hung).toEqual({
      ok: false,
      unavailable: true,
      reason: `could not be checked (${silent}): the DNS resolver did not answer within 3 s`,
    });
  });

  it('never asks the resolver about an IP literal or localhost, nor about a URL refused as written', async () => {
    expect(await checkDestinationResolved('https://8.8.8.8/x', production, DOWN)).toMatchObject({
      ok: true,
    });
    for (const url of ['http://127.0.0.1:9/x', 'http://[::1]/x', 'http://localhost:3000/x'])
      expect(await checkDestinationResolved(url, development, DOWN), url).toMatchObject({
        ok: true,
      });
    expect(await checkDestinationResolved('https://10.1.2.3/x', production, DOWN)).toEqual({
      ok: false,
      reason: 'must not be in a blocked range: private',
    });
    expect(await checkDestinationResolved('http://hooks.example.com/x', production, DOWN)).toEqual({
      ok: false,
      reason: 'must be an https URL',
    });
    expect(
      await checkDestinationResolved('https://metadata.google.internal/x', production, DOWN),
    ).toMatchObject({ ok: false, reason: expect.stringContaining('public host name') });
  });

  it('caches an answer for its TTL, at most 60 s, and not at all with TTL 0', async () => {
    const cached = fresh('cached');
    await dnsAnswer(cached, { A: ['93.184.215.14'], ttl: 3_600 });
    expect(await check(cached)).toMatchObject({ ok: true });
    expect(await queries(cached)).toBe(2); // A and AAAA
    // The name now answers a private address, but the cached public one is used…
    await dnsAnswer(cached, { A: ['10.9.9.9'], ttl: 3_600 });
    expect(await check(cached)).toMatchObject({ ok: true });
    expect(await queries(cached)).toBe(2);
    // …for at most 60 s, whatever the TTL.
    const now = Date.now();
    vi.spyOn(Date, 'now').mockReturnValue(now + 61_000);
    expect(await check(cached)).toEqual({
      ok: false,
      reason: 'must not resolve to a blocked address: private (10.9.9.9)',
    });
    expect(await queries(cached)).toBe(4);
    vi.restoreAllMocks();

    const short = fresh('ttl0');
    await dnsAnswer(short, { A: ['93.184.215.14'], ttl: 0 });
    expect(await check(short)).toMatchObject({ ok: true });
    await dnsAnswer(short, { A: ['169.254.169.254'], ttl: 0 });
    expect((await check(short)).ok).toBe(false);
    expect(await queries(short)).toBe(4);

    // A refusal or a failure is not cached: the next check asks again.
    const failing = fresh('flaky');
    await dnsAnswer(failing, { status: 2 });
    expect(await check(failing)).toMatchObject({ ok: false, unavailable: true });
    await dnsAnswer(failing, { A: ['93.184.215.14'] });
    expect(await check(failing)).toMatchObject({ ok: true });
  });

  it('keeps at most 1,000 names, dropping the oldest, and forgets expired ones', () => {
    expect(resolverCache.maxEntries).toBe(MAX_CACHED_NAMES);
    expect(MAX_CACHED_NAMES).toBe(1_000);
    const cache = new AnswerCache<number>(3);
    for (const [i, key] of ['a', 'b', 'c', 'd'].entries()) cache.set(key, i, 10_000, 0);
    expect(cache.size).toBe(3);
    expect(cache.get('a', 0)).toBeUndefined();
    expect(cache.get('d', 0)).toBe(3);
    expect(cache.get('b', 9_999)).toBe(1);
    expect(cache.get('b', 10_000)).toBeUndefined();
    expect(cache.size).toBe(2);
    cache.set('e', 4, 0, 0);
    expect(cache.get('e', 0)).toBeUndefined();
  });
});
